// Package shim exposes the provider's internal SDKv2 provider to the Pulumi bridge.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns the SDKv2 Terraform provider (containers, networks, volumes, images, ...).
func NewProvider(version string) *schema.Provider { return provider.New(version)() }
