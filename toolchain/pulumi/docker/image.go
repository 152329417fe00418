package main

// The native docker:index/image:Image resource: builds an image through the Docker engine API (the classic builder,
// BuilderV1, or the engine's built-in BuildKit, BuilderBuildKit; no buildx needed) and pushes it unless skipPush.
// Check adds build.contextDigest, a hash of the build context, the Dockerfile and the build options, so a later
// `pulumi up` rebuilds only when one of them changed.

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

type imageProvider struct {
	mu         sync.Mutex
	host       *provider.HostClient
	dockerHost string
}

func newImageProvider(host *provider.HostClient) *imageProvider { return &imageProvider{host: host} }

func (p *imageProvider) attach(addr string) error {
	h, err := provider.NewHostClient(addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.host = h
	p.mu.Unlock()
	return nil
}

func (p *imageProvider) configure(req *pulumirpc.ConfigureRequest) {
	host := req.GetVariables()["docker:config:host"]
	if args := req.GetArgs(); args != nil {
		if v, ok := args.GetFields()["host"]; ok && v.GetStringValue() != "" {
			host = v.GetStringValue()
		}
	}
	p.mu.Lock()
	p.dockerHost = host
	p.mu.Unlock()
}

func (p *imageProvider) client() (*client.Client, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	p.mu.Lock()
	if p.dockerHost != "" {
		opts = append(opts, client.WithHost(p.dockerHost))
	}
	p.mu.Unlock()
	return client.NewClientWithOpts(opts...)
}

func (p *imageProvider) log(ctx context.Context, sev diag.Severity, urn, msg string, status bool) {
	p.mu.Lock()
	h := p.host
	p.mu.Unlock()
	if h == nil {
		return
	}
	if status {
		_ = h.LogStatus(ctx, sev, resource.URN(urn), msg)
	} else {
		_ = h.Log(ctx, sev, resource.URN(urn), msg)
	}
}

var opts = plugin.MarshalOptions{KeepUnknowns: true, SkipNulls: true, KeepSecrets: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, opts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, opts)
}

// spec is the resolved Image input.
type spec struct {
	Name, Context, Dockerfile, Target, Platform, Network string
	Version                                              build.BuilderVersion
	Args                                                 map[string]*string
	CacheFrom, AddHosts                                  []string
	SkipPush                                             bool
	RegServer, RegUser, RegPassword                      string
}

func str(m resource.PropertyMap, k string) string {
	v, ok := m[resource.PropertyKey(k)]
	if !ok {
		return ""
	}
	v = unsecret(v)
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func unsecret(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsOutput() && v.OutputValue().Known {
		v = v.OutputValue().Element
	}
	return v
}

func strList(m resource.PropertyMap, k string) []string {
	v := unsecret(m[resource.PropertyKey(k)])
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e = unsecret(e); e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

func obj(m resource.PropertyMap, k string) resource.PropertyMap {
	v := unsecret(m[resource.PropertyKey(k)])
	if v.IsObject() {
		return v.ObjectValue()
	}
	return resource.PropertyMap{}
}

func parseSpec(in resource.PropertyMap) (spec, error) {
	s := spec{Name: str(in, "imageName"), Context: ".", Version: build.BuilderBuildKit}
	if sp := unsecret(in["skipPush"]); sp.IsBool() {
		s.SkipPush = sp.BoolValue()
	}
	b := obj(in, "build")
	if c := str(b, "context"); c != "" {
		s.Context = c
	}
	s.Dockerfile = str(b, "dockerfile")
	if s.Dockerfile == "" {
		s.Dockerfile = path.Join(s.Context, "Dockerfile")
	}
	switch v := str(b, "builderVersion"); v {
	case "", "BuilderBuildKit":
	case "BuilderV1":
		s.Version = build.BuilderV1
	default:
		return s, fmt.Errorf("invalid build.builderVersion %q (want BuilderV1 or BuilderBuildKit)", v)
	}
	s.Target, s.Platform, s.Network = str(b, "target"), str(b, "platform"), str(b, "network")
	s.AddHosts = strList(b, "addHosts")
	s.CacheFrom = strList(obj(b, "cacheFrom"), "images")
	if a := obj(b, "args"); len(a) > 0 {
		s.Args = map[string]*string{}
		for k, v := range a {
			if v = unsecret(v); v.IsString() {
				val := v.StringValue()
				s.Args[string(k)] = &val
			}
		}
	}
	r := obj(in, "registry")
	s.RegServer, s.RegUser, s.RegPassword = str(r, "server"), str(r, "username"), str(r, "password")
	return s, nil
}

// buildFiles resolves the context directory, the Dockerfile and the context's .dockerignore patterns.
func (s spec) buildFiles() (ctxDir, dockerfile string, inContext bool, rel string, excludes []string, err error) {
	if ctxDir, err = filepath.Abs(s.Context); err != nil {
		return
	}
	if st, e := os.Stat(ctxDir); e != nil || !st.IsDir() {
		err = fmt.Errorf("build context %q is not a directory", s.Context)
		return
	}
	if dockerfile, err = filepath.Abs(s.Dockerfile); err != nil {
		return
	}
	if _, e := os.Stat(dockerfile); e != nil {
		err = fmt.Errorf("dockerfile %q: %w", s.Dockerfile, e)
		return
	}
	if rel, err = filepath.Rel(ctxDir, dockerfile); err != nil {
		return
	}
	rel = filepath.ToSlash(rel)
	inContext = !strings.HasPrefix(rel, "../")
	// <Dockerfile>.dockerignore next to the Dockerfile wins over <context>/.dockerignore, as with the docker CLI.
	for _, cand := range []string{dockerfile + ".dockerignore", filepath.Join(ctxDir, ".dockerignore")} {
		f, e := os.Open(cand)
		if e != nil {
			continue
		}
		excludes, err = ignorefile.ReadAll(f)
		f.Close()
		break
	}
	return
}

// walkContext calls fn for each file of the context that .dockerignore keeps, in a stable order.
func walkContext(ctxDir string, excludes []string, fn func(rel string, path string, info fs.FileInfo) error) error {
	pm, err := patternmatcher.New(excludes)
	if err != nil {
		return err
	}
	return filepath.Walk(ctxDir, func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(ctxDir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		skip, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		if skip {
			if info.IsDir() && !pm.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		return fn(rel, p, info)
	})
}

// digest hashes everything a build depends on.
func (s spec) digest() (string, error) {
	ctxDir, dockerfile, _, _, excludes, err := s.buildFiles()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	hashFile := func(p string) error {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		return err
	}
	if err := walkContext(ctxDir, excludes, func(rel, p string, info fs.FileInfo) error {
		fmt.Fprintf(h, "%s\x00%o\x00", rel, info.Mode())
		switch {
		case info.Mode().IsRegular():
			return hashFile(p)
		case info.Mode()&os.ModeSymlink != 0:
			t, _ := os.Readlink(p)
			fmt.Fprintf(h, "%s\x00", t)
		}
		return nil
	}); err != nil {
		return "", err
	}
	fmt.Fprint(h, "\x00dockerfile\x00")
	if err := hashFile(dockerfile); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// contextTar streams the build context (and an out-of-context Dockerfile) as a tar; it returns the Dockerfile's
// name inside the tar.
func (s spec) contextTar() (io.ReadCloser, string, error) {
	ctxDir, dockerfile, inContext, rel, excludes, err := s.buildFiles()
	if err != nil {
		return nil, "", err
	}
	name := rel
	if !inContext {
		name = ".dockerfile." + strings.TrimPrefix(mustDigest(dockerfile), "sha256:")[:20]
	} else {
		// never let .dockerignore drop the Dockerfile or .dockerignore themselves
		excludes = append(excludes, "!"+rel, "!.dockerignore")
	}
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		add := func(nameInTar, p string, info fs.FileInfo) error {
			link := ""
			if info.Mode()&os.ModeSymlink != 0 {
				link, _ = os.Readlink(p)
			}
			hdr, err := tar.FileInfoHeader(info, link)
			if err != nil {
				return err
			}
			hdr.Name = nameInTar
			if info.IsDir() {
				hdr.Name += "/"
			}
			hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if info.Mode().IsRegular() {
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				defer f.Close()
				_, err = io.Copy(tw, f)
				return err
			}
			return nil
		}
		err := walkContext(ctxDir, excludes, func(rel, p string, info fs.FileInfo) error { return add(rel, p, info) })
		if err == nil && !inContext {
			var info fs.FileInfo
			if info, err = os.Stat(dockerfile); err == nil {
				err = add(name, dockerfile, info)
			}
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, name, nil
}

func mustDigest(p string) string {
	b, _ := os.ReadFile(p)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (p *imageProvider) Check(ctx context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	if v, ok := news["imageName"]; !ok || v.IsNull() {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "imageName", Reason: "imageName is required"})
	}
	if news.ContainsUnknowns() {
		return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
	}
	s, err := parseSpec(news)
	if err != nil {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "build", Reason: err.Error()})
		return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
	}
	d, err := s.digest()
	if err != nil {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "build", Reason: err.Error()})
		return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
	}
	b := obj(news, "build").Copy()
	b["contextDigest"] = resource.NewStringProperty(d)
	news["build"] = resource.NewObjectProperty(b)
	inputs, err := marshal(news)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

var inputKeys = []resource.PropertyKey{"imageName", "build", "registry", "skipPush"}

func (p *imageProvider) Diff(ctx context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if len(olds) == 0 {
		if olds, err = unmarshal(req.GetOlds()); err != nil {
			return nil, err
		}
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var diffs []string
	detailed := map[string]*pulumirpc.PropertyDiff{}
	for _, k := range inputKeys {
		o, n := olds[k], news[k]
		if k == "skipPush" { // null and false mean the same
			if o.IsNull() {
				o = resource.NewBoolProperty(false)
			}
			if n.IsNull() {
				n = resource.NewBoolProperty(false)
			}
		}
		if n.ContainsUnknowns() || !o.DeepEquals(n) {
			diffs = append(diffs, string(k))
			detailed[string(k)] = &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_UPDATE, InputDiff: true}
		}
	}
	if len(diffs) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	return &pulumirpc.DiffResponse{
		Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: diffs, DetailedDiff: detailed, HasDetailedDiff: true,
	}, nil
}

func (p *imageProvider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	id, props, err := p.apply(ctx, req.GetUrn(), req.GetProperties(), req.GetPreview())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (p *imageProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	_, props, err := p.apply(ctx, req.GetUrn(), req.GetNews(), req.GetPreview())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (p *imageProvider) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// Delete leaves the image in the engine, as pulumi-docker does.
func (p *imageProvider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// apply builds (and pushes) the image; outputs are the inputs plus the computed properties.
func (p *imageProvider) apply(ctx context.Context, urn string, props *structpb.Struct, preview bool) (string, *structpb.Struct, error) {
	in, err := unmarshal(props)
	if err != nil {
		return "", nil, err
	}
	out := in.Copy()
	s, err := parseSpec(in)
	if err != nil {
		return "", nil, err
	}
	_, _, _, rel, _, ferr := s.buildFiles()
	out["baseImageName"] = resource.NewStringProperty(s.Name)
	out["context"] = resource.NewStringProperty(s.Context)
	out["dockerfile"] = resource.NewStringProperty(rel)
	out["registryServer"] = resource.NewStringProperty(s.RegServer)
	if s.Platform != "" {
		out["platform"] = resource.NewStringProperty(s.Platform)
	}
	if preview || in.ContainsUnknowns() {
		out["repoDigest"] = resource.MakeComputed(resource.NewStringProperty(""))
		m, err := marshal(out)
		return "", m, err
	}
	if ferr != nil {
		return "", nil, ferr
	}
	id, err := p.build(ctx, urn, s)
	if err != nil {
		return "", nil, err
	}
	// Not pushed: repoDigest carries the local image ID (sha256:...), which a docker.Container accepts as its image
	// and which changes whenever the image does (upstream leaves repoDigest unset when skipPush).
	out["repoDigest"] = resource.NewStringProperty(id)
	if !s.SkipPush {
		digest, err := p.push(ctx, urn, s)
		if err != nil {
			return "", nil, err
		}
		out["repoDigest"] = resource.NewStringProperty(digest)
	}
	m, err := marshal(out)
	return s.Name, m, err
}

func (p *imageProvider) build(ctx context.Context, urn string, s spec) (string, error) {
	cli, err := p.client()
	if err != nil {
		return "", err
	}
	defer cli.Close()
	body, dockerfile, err := s.contextTar()
	if err != nil {
		return "", err
	}
	defer body.Close()
	p.log(ctx, diag.Info, urn, fmt.Sprintf("Building %s (builder %s)", s.Name, map[build.BuilderVersion]string{
		build.BuilderV1: "BuilderV1", build.BuilderBuildKit: "BuilderBuildKit"}[s.Version]), true)
	resp, err := cli.ImageBuild(ctx, body, build.ImageBuildOptions{
		Tags: []string{s.Name}, Dockerfile: dockerfile, BuildArgs: s.Args, Target: s.Target,
		Platform: s.Platform, NetworkMode: s.Network, ExtraHosts: s.AddHosts, CacheFrom: s.CacheFrom,
		Version: s.Version, Remove: true, ForceRemove: true,
	})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tail []string
	var built string
	err = stream(resp.Body, func(line string) {
		p.log(ctx, diag.Info, urn, line, true)
		tail = append(tail, line)
		if len(tail) > 20 {
			tail = tail[1:]
		}
	}, func(id string) { built = id })
	if err != nil {
		return "", fmt.Errorf("building %s: %w\n%s", s.Name, err, strings.Join(tail, "\n"))
	}
	insp, err := cli.ImageInspect(ctx, s.Name)
	if err != nil {
		return "", fmt.Errorf("building %s: image not found after build: %w", s.Name, err)
	}
	if built != "" && built != insp.ID {
		p.log(ctx, diag.Debug, urn, "built "+built+", tagged "+insp.ID, false)
	}
	p.log(ctx, diag.Info, urn, fmt.Sprintf("Built %s (%s)", s.Name, insp.ID), true)
	return insp.ID, nil
}

func (p *imageProvider) push(ctx context.Context, urn string, s spec) (string, error) {
	cli, err := p.client()
	if err != nil {
		return "", err
	}
	defer cli.Close()
	auth := registry.AuthConfig{Username: s.RegUser, Password: s.RegPassword, ServerAddress: s.RegServer}
	raw, _ := json.Marshal(auth)
	p.log(ctx, diag.Info, urn, "Pushing "+s.Name, true)
	rc, err := cli.ImagePush(ctx, s.Name, image.PushOptions{RegistryAuth: base64.URLEncoding.EncodeToString(raw)})
	if err != nil {
		return "", err
	}
	defer rc.Close()
	if err := stream(rc, func(line string) { p.log(ctx, diag.Info, urn, line, true) }, nil); err != nil {
		return "", fmt.Errorf("pushing %s: %w", s.Name, err)
	}
	insp, err := cli.ImageInspect(ctx, s.Name)
	if err != nil {
		return "", err
	}
	if len(insp.RepoDigests) > 0 {
		return insp.RepoDigests[0], nil
	}
	return insp.ID, nil
}

// stream reads the engine's JSON message stream, reports readable lines and fails on an error message.
func stream(r io.Reader, line func(string), aux func(id string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m struct {
			Stream, Status, Progress, ID, Error string
			ErrorDetail                         *struct{ Message string } `json:"errorDetail"`
			Aux                                 json.RawMessage           `json:"aux"`
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
			return fmt.Errorf("%s", m.ErrorDetail.Message)
		}
		if m.Error != "" {
			return fmt.Errorf("%s", m.Error)
		}
		switch {
		case m.ID == "moby.buildkit.trace":
			var b64 string
			if json.Unmarshal(m.Aux, &b64) == nil {
				if raw, err := base64.StdEncoding.DecodeString(b64); err == nil {
					for _, l := range buildkitLines(raw) {
						line(l)
					}
				}
			}
		case m.ID == "moby.image.id":
			var v struct{ ID string }
			if aux != nil && json.Unmarshal(m.Aux, &v) == nil {
				aux(v.ID)
			}
		case m.Stream != "":
			if s := strings.TrimRight(m.Stream, "\n"); strings.TrimSpace(s) != "" {
				line(s)
			}
		case m.Status != "":
			s := m.Status
			if m.ID != "" {
				s = m.ID + ": " + s
			}
			line(s)
		}
	}
	return sc.Err()
}

var seenVertex sync.Map

// buildkitLines pulls the step names, completions and logs out of a BuildKit StatusResponse message (the
// moby.buildkit.trace aux payload) without depending on BuildKit's Go types.
func buildkitLines(b []byte) []string {
	var out []string
	fields(b, func(num protowire.Number, v []byte) {
		switch num {
		case 1: // Vertex: digest=1 name=3 cached=4 completed=6 error=7
			var digest, name, errMsg string
			var cached, completed bool
			fields(v, func(n protowire.Number, vv []byte) {
				switch n {
				case 1:
					digest = string(vv)
				case 3:
					name = string(vv)
				case 6:
					completed = true
				case 7:
					errMsg = string(vv)
				}
			})
			fieldsVarint(v, 4, func(x uint64) { cached = x != 0 })
			if name == "" {
				return
			}
			key := digest + map[bool]string{true: "/done", false: "/start"}[completed]
			if _, dup := seenVertex.LoadOrStore(key, true); dup {
				return
			}
			switch {
			case errMsg != "":
				out = append(out, name+" ERROR: "+errMsg)
			case completed && cached:
				out = append(out, name+" CACHED")
			case completed:
				out = append(out, name+" DONE")
			default:
				out = append(out, name)
			}
		case 3: // VertexLog: msg=4
			fields(v, func(n protowire.Number, vv []byte) {
				if n == 4 {
					for _, l := range strings.Split(strings.TrimRight(string(vv), "\n"), "\n") {
						if strings.TrimSpace(l) != "" {
							out = append(out, "  "+l)
						}
					}
				}
			})
		}
	})
	return out
}

// fields calls fn for each length-delimited field of a protobuf message.
func fields(b []byte, fn func(protowire.Number, []byte)) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		if typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return
			}
			fn(num, v)
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return
		}
		b = b[m:]
	}
}

func fieldsVarint(b []byte, want protowire.Number, fn func(uint64)) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		if typ == protowire.VarintType && num == want {
			x, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return
			}
			fn(x)
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return
		}
		b = b[m:]
	}
}
