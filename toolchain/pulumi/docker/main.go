// pulumi-resource-docker, rebuilt offline for the clickstream project.
//
// The upstream pulumi-docker provider module is not served by the Go module proxy this project can reach, so this
// program rebuilds the same provider from parts that are: pulumi-terraform-bridge bridges the Terraform provider
// kreuzwerker/terraform-provider-docker (Container, Network, Volume, RemoteImage, ...), with the type tokens and
// property names of the pulumi-docker SDK, and image.go implements the native docker:index/image:Image resource.
// scripts/setup/pulumi.sh builds it.
package main

import (
	"context"
	"strings"
	"unicode"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/terraform-providers/terraform-provider-docker/shim"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set at link time (-X main.version=5.1.0) to the pulumi-docker SDK version it serves.
var version = "5.1.0"

const imageToken = "docker:index/image:Image"

func resTok(name string) tokens.Type {
	file := string(unicode.ToLower(rune(name[0]))) + name[1:]
	return tokens.Type("docker:index/" + file + ":" + name)
}

func dsTok(name string) tokens.ModuleMember {
	file := string(unicode.ToLower(rune(name[0]))) + name[1:]
	return tokens.ModuleMember("docker:index/" + file + ":" + name)
}

// providerInfo maps the Terraform provider onto the tokens and names of the pulumi-docker SDK.
func providerInfo() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(shim.NewProvider(version)),
		Name:    "docker",
		Version: version,
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {Default: &tfbridge.DefaultInfo{
				Value: "unix:///var/run/docker.sock", EnvVars: []string{"DOCKER_HOST"},
			}},
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_config": {Tok: resTok("ServiceConfig")},
			"docker_container": {
				Tok:                 resTok("Container"),
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					"command":           {Name: "command"},
					"networks_advanced": {Name: "networksAdvanced"},
				},
			},
			"docker_image": {
				Tok:    resTok("RemoteImage"),
				Fields: map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}},
			},
			"docker_network":        {Tok: resTok("Network")},
			"docker_secret":         {Tok: resTok("Secret")},
			"docker_service":        {Tok: resTok("Service")},
			"docker_volume":         {Tok: resTok("Volume")},
			"docker_registry_image": {Tok: resTok("RegistryImage")},
			"docker_plugin":         {Tok: resTok("Plugin")},
			"docker_tag":            {Tok: resTok("Tag")},
			"docker_buildx_builder": {Tok: resTok("BuildxBuilder")},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_network":                  {Tok: dsTok("getNetwork")},
			"docker_registry_image":           {Tok: dsTok("getRegistryImage")},
			"docker_registry_image_manifests": {Tok: dsTok("getRegistryImageManifests")},
			"docker_plugin":                   {Tok: dsTok("getPlugin")},
			"docker_image":                    {Tok: dsTok("getRemoteImage")},
			"docker_logs":                     {Tok: dsTok("getLogs")},
		},
	}
	info.SetAutonaming(255, "-")
	return info
}

// hybrid serves Image natively and everything else through the bridge.
type hybrid struct {
	pulumirpc.ResourceProviderServer // the bridged provider
	native                           *imageProvider
}

func isImage(urn, typ string) bool {
	if typ != "" {
		return typ == imageToken
	}
	// urn:pulumi:stack::project::[parent$]type::name
	parts := strings.Split(urn, "::")
	if len(parts) < 3 {
		return false
	}
	t := parts[2]
	if i := strings.LastIndex(t, "$"); i >= 0 {
		t = t[i+1:]
	}
	return t == imageToken || t == "docker:image:Image"
}

func (h *hybrid) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *hybrid) Attach(ctx context.Context, req *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	if err := h.native.attach(req.GetAddress()); err != nil {
		return nil, err
	}
	return h.ResourceProviderServer.Attach(ctx, req)
}

func (h *hybrid) Configure(ctx context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	h.native.configure(req)
	return h.ResourceProviderServer.Configure(ctx, req)
}

func (h *hybrid) Check(ctx context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if isImage(req.GetUrn(), req.GetType()) {
		return h.native.Check(ctx, req)
	}
	return h.ResourceProviderServer.Check(ctx, req)
}

func (h *hybrid) Diff(ctx context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	if isImage(req.GetUrn(), req.GetType()) {
		return h.native.Diff(ctx, req)
	}
	return h.ResourceProviderServer.Diff(ctx, req)
}

func (h *hybrid) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if isImage(req.GetUrn(), req.GetType()) {
		return h.native.Create(ctx, req)
	}
	return h.ResourceProviderServer.Create(ctx, req)
}

func (h *hybrid) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if isImage(req.GetUrn(), req.GetType()) {
		return h.native.Read(ctx, req)
	}
	return h.ResourceProviderServer.Read(ctx, req)
}

func (h *hybrid) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if isImage(req.GetUrn(), req.GetType()) {
		return h.native.Update(ctx, req)
	}
	return h.ResourceProviderServer.Update(ctx, req)
}

func (h *hybrid) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if isImage(req.GetUrn(), req.GetType()) {
		return h.native.Delete(ctx, req)
	}
	return h.ResourceProviderServer.Delete(ctx, req)
}

func main() {
	info := providerInfo()
	err := provider.Main("docker", func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return &hybrid{
			ResourceProviderServer: tfbridge.NewProvider(context.Background(), host, "docker", version, info.P, info, nil),
			native:                 newImageProvider(host),
		}, nil
	})
	if err != nil {
		cmdutil.ExitError(err.Error())
	}
}
