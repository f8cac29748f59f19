package k8s

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const (
	repoRoot   = "../.."
	dockerfile = repoRoot + "/Dockerfile"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
}

// parseDockerfile returns the instructions of each stage, in order.
func parseDockerfile(t *testing.T) [][]instruction {
	t.Helper()
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]instruction
	var cur strings.Builder
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if l, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(l + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		cur.Reset()
		in := instruction{strings.ToUpper(cmd), strings.Join(strings.Fields(args), " ")}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%s: %d stages, want a build stage and the final one", dockerfile, len(stages))
	}
	return stages
}

// last returns the args of the stage's last instruction cmd.
func last(stage []instruction, cmd string) string {
	var args string
	for _, in := range stage {
		if in.cmd == cmd {
			args = in.args
		}
	}
	return args
}

// TestDockerfileMatchesChart checks that the image the Dockerfile builds
// and the pods the chart makes agree: the port, the configuration's path,
// the user.
func TestDockerfileMatchesChart(t *testing.T) {
	stages := parseDockerfile(t)
	final := stages[len(stages)-1]
	var values struct {
		ContainerPort      int `json:"containerPort"`
		PodSecurityContext struct {
			RunAsUser  int `json:"runAsUser"`
			RunAsGroup int `json:"runAsGroup"`
		} `json:"podSecurityContext"`
	}
	vdata, err := os.ReadFile(valuesFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(vdata, &values); err != nil {
		t.Fatal(err)
	}

	from := last(final, "FROM")
	if !strings.HasPrefix(from, "gcr.io/distroless/static") || !strings.HasSuffix(from, ":nonroot") {
		t.Errorf("final stage FROM %s, want distroless static, nonroot", from)
	}
	// The distroless nonroot user and group are 65532.
	if u := last(final, "USER"); u != "nonroot:nonroot" || values.PodSecurityContext.RunAsUser != 65532 || values.PodSecurityContext.RunAsGroup != 65532 {
		t.Errorf("Dockerfile USER %q, chart runAsUser %d runAsGroup %d: want nonroot, 65532",
			u, values.PodSecurityContext.RunAsUser, values.PodSecurityContext.RunAsGroup)
	}
	if e := last(final, "EXPOSE"); e != fmt.Sprint(values.ContainerPort) {
		t.Errorf("Dockerfile EXPOSE %s, chart containerPort %d", e, values.ContainerPort)
	}
	var entry, cmd []string
	if err := json.Unmarshal([]byte(last(final, "ENTRYPOINT")), &entry); err != nil || !slices.Equal(entry, []string{"/gateway"}) {
		t.Errorf("ENTRYPOINT %s, want [\"/gateway\"] (%v)", last(final, "ENTRYPOINT"), err)
	}
	if err := json.Unmarshal([]byte(last(final, "CMD")), &cmd); err != nil {
		t.Fatalf("CMD %s: %v", last(final, "CMD"), err)
	}
	// The chart passes the same arguments explicitly.
	tpl, err := os.ReadFile(repoRoot + "/charts/scim-gateway/templates/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	helpers, err := os.ReadFile(repoRoot + "/charts/scim-gateway/templates/_helpers.tpl")
	if err != nil {
		t.Fatal(err)
	}
	want := `args: ["serve", "--config", "{{ include "scim-gateway.configDir" . }}/config.yaml"]`
	if !strings.Contains(string(tpl), want) || !strings.Contains(string(helpers), `{{- define "scim-gateway.configDir" -}}/etc/scim-gateway{{- end }}`) ||
		!slices.Equal(cmd, []string{"serve", "--config", "/etc/scim-gateway/config.yaml"}) {
		t.Errorf("Dockerfile CMD %q and the chart's args disagree", cmd)
	}
}

// TestDockerBuildStage runs the build stage without Docker: the build
// context as .dockerignore leaves it, copied to a directory, then the go
// build command of the Dockerfile's RUN instruction with VERSION and COMMIT
// set; the binary must report them. It catches a .dockerignore that drops
// a file the build needs and ldflags that name no variable.
func TestDockerBuildStage(t *testing.T) {
	ignore, err := os.ReadFile(repoRoot + "/.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	m, err := newIgnoreMatcher(string(ignore))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.TempDir()
	err = filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if m.excluded(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		dst := filepath.Join(ctx, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"go.mod", "go.sum", "cmd/gateway/main.go"} {
		if _, err := os.Stat(filepath.Join(ctx, must)); err != nil {
			t.Fatalf("build context: %v", err)
		}
	}

	var run string
	for _, in := range parseDockerfile(t)[0] {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			run = in.args
		}
	}
	if run == "" {
		t.Fatal("the build stage has no RUN with go build")
	}
	// Drop RUN's own flags (--mount=...); the rest is a shell command.
	fields := strings.Fields(run)
	for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
		fields = fields[1:]
	}
	out := filepath.Join(t.TempDir(), "gateway")
	shell := strings.ReplaceAll(strings.Join(fields, " "), "/out/gateway", out)
	if !strings.Contains(shell, out) {
		t.Fatalf("the go build does not write /out/gateway, which the final stage copies: %s", shell)
	}
	cmd := exec.Command("sh", "-c", shell)
	cmd.Dir = ctx
	cmd.Env = append(os.Environ(), "TARGETOS="+runtime.GOOS, "TARGETARCH="+runtime.GOARCH,
		"VERSION=v9.8.7-docker", "COMMIT=c0ffee0123456789")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", shell, err, b)
	}
	b, err := exec.Command(out, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(b), "gateway v9.8.7-docker (commit c0ffee0123456789,") {
		t.Errorf("gateway version = %q, %v; want the VERSION and COMMIT build args", b, err)
	}
}

// ignoreMatcher applies .dockerignore patterns the way Docker does for the
// forms this repository uses: each pattern is relative to the context's
// root, `*` and `?` stay within a path segment, `**` spans any number of
// segments, and a pattern that matches a directory excludes what is in it.
type ignoreMatcher struct{ patterns [][]string }

func newIgnoreMatcher(text string) (*ignoreMatcher, error) {
	m := new(ignoreMatcher)
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			return nil, fmt.Errorf(".dockerignore: exceptions (%s) are not supported by this check", line)
		}
		p := strings.TrimPrefix(path.Clean(line), "/")
		m.patterns = append(m.patterns, strings.Split(p, "/"))
	}
	return m, nil
}

func (m *ignoreMatcher) excluded(rel string) bool {
	segs := strings.Split(rel, "/")
	for _, p := range m.patterns {
		for n := 1; n <= len(segs); n++ {
			if matchSegments(p, segs[:n]) {
				return true
			}
		}
	}
	return false
}

func matchSegments(pat, segs []string) bool {
	if len(pat) == 0 {
		return len(segs) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if matchSegments(pat[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, err := path.Match(pat[0], segs[0])
	return err == nil && ok && matchSegments(pat[1:], segs[1:])
}

func TestIgnoreMatcher(t *testing.T) {
	m, err := newIgnoreMatcher("# comment\n.git\n/bin\n*.md\n**/*_test.go\n**/testdata\ndocs/\n")
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]bool{
		".git":                           true,
		".git/config":                    true,
		"bin/gateway":                    true,
		"cmd/bin/x.go":                   false,
		"README.md":                      true,
		"internal/README.md":             false, // *.md is anchored at the root
		"internal/x/x_test.go":           true,
		"x_test.go":                      true,
		"internal/x/x.go":                false,
		"internal/x/testdata/a.json":     true,
		"docs/deploy.md":                 true,
		"docsx/a":                        false,
		"internal/adapters/webex/a.json": false,
	} {
		if got := m.excluded(rel); got != want {
			t.Errorf("excluded(%q) = %v, want %v", rel, got, want)
		}
	}
	if _, err := newIgnoreMatcher("!keep.md\n"); err == nil {
		t.Error("an exception pattern was accepted")
	}
}
