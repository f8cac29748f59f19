package k8s

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The release scripts/helm.sh renders: helm template ci --namespace scim.
const (
	release   = "ci"
	namespace = "scim"
	fullname  = release + "-scim-gateway"
)

// object is one document of a rendered file, decoded into its API type.
type object struct {
	kind  string
	meta  metav1.Object
	value any
}

// render is the output of `helm template` for one values file.
type render struct {
	name    string // the values file's name without .yaml
	objects []object
}

// serviceMonitor is the part of a Prometheus Operator ServiceMonitor
// (monitoring.coreos.com/v1) the chart writes. Decoding is strict, so a
// field the chart adds must be added here, after checking the CRD has it.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
			Scheme        string `json:"scheme"`
			TLSConfig     *struct {
				InsecureSkipVerify bool   `json:"insecureSkipVerify"`
				ServerName         string `json:"serverName"`
				CA                 *struct {
					Secret    *corev1.SecretKeySelector    `json:"secret"`
					ConfigMap *corev1.ConfigMapKeySelector `json:"configMap"`
				} `json:"ca"`
			} `json:"tlsConfig"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// newTyped returns an empty object of the API type of apiVersion and kind,
// and false for any kind the chart is not expected to render.
func newTyped(apiVersion, kind string) (any, bool) {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return new(appsv1.Deployment), true
	case "v1 Service":
		return new(corev1.Service), true
	case "v1 ConfigMap":
		return new(corev1.ConfigMap), true
	case "v1 Secret":
		return new(corev1.Secret), true
	case "v1 ServiceAccount":
		return new(corev1.ServiceAccount), true
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return new(autoscalingv2.HorizontalPodAutoscaler), true
	case "policy/v1 PodDisruptionBudget":
		return new(policyv1.PodDisruptionBudget), true
	case "networking.k8s.io/v1 NetworkPolicy":
		return new(networkingv1.NetworkPolicy), true
	case "networking.k8s.io/v1 Ingress":
		return new(networkingv1.Ingress), true
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return new(serviceMonitor), true
	}
	return nil, false
}

// decodeManifests splits a multi-document YAML stream and decodes each
// document strictly (unknown or duplicate fields are errors) into its type.
func decodeManifests(data []byte) ([]object, error) {
	var objs []object
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if isBlank(doc) {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		v, ok := newTyped(tm.APIVersion, tm.Kind)
		if !ok {
			return nil, fmt.Errorf("document %d: unexpected kind %q of apiVersion %q", i, tm.Kind, tm.APIVersion)
		}
		if err := yaml.UnmarshalStrict(doc, v); err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i, tm.Kind, err)
		}
		objs = append(objs, object{kind: tm.Kind, meta: v.(metav1.Object), value: v})
	}
}

// isBlank reports whether a document holds nothing but comments.
func isBlank(doc []byte) bool {
	for line := range strings.Lines(string(doc)) {
		line = strings.TrimSpace(line)
		if line != "" && line != "---" && !strings.HasPrefix(line, "#") {
			return false
		}
	}
	return true
}

// renders loads every rendered file of HELM_RENDER_DIR.
func renders(t *testing.T) []*render {
	t.Helper()
	dir := os.Getenv("HELM_RENDER_DIR")
	if dir == "" {
		t.Fatal("HELM_RENDER_DIR is unset: scripts/helm.sh renders the chart and runs these tests")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no rendered files in %s", dir)
	}
	var out []*render
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := decodeManifests(data)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		out = append(out, &render{name: strings.TrimSuffix(filepath.Base(f), ".yaml"), objects: objs})
	}
	return out
}

// all returns the objects of type T, in the order rendered.
func all[T any](r *render) []T {
	var out []T
	for _, o := range r.objects {
		if v, ok := o.value.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// named returns the object of type T called name, failing the test if
// there is none.
func named[T metav1.Object](t *testing.T, r *render, name string) T {
	t.Helper()
	for _, v := range all[T](r) {
		if v.GetName() == name {
			return v
		}
	}
	var zero T
	t.Fatalf("%s: no %T named %s", r.name, zero, name)
	return zero
}

// inventory lists a render's objects as "Kind name", sorted.
func (r *render) inventory() []string {
	var out []string
	for _, o := range r.objects {
		out = append(out, o.kind+" "+o.meta.GetName())
	}
	slices.Sort(out)
	return out
}

func TestDecodeManifestsIsStrict(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"unknown field", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {prots: []}\n", "unknown field"},
		{"duplicate field", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nmetadata: {name: b}\n", "already set"},
		{"unknown kind", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n", "unexpected kind"},
		{"wrong version", "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\n", "unexpected kind"},
		{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: two}\n", "replicas"},
		{"service monitor field", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: a}\nspec: {endpoints: [{prot: http}]}\n", "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeManifests([]byte("---\n# Source: x\n" + tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("decodeManifests(%q) = %v, want an error containing %q", tt.doc, err, tt.wantErr)
			}
		})
	}
	objs, err := decodeManifests([]byte("---\n# only a comment\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n---\n"))
	if err != nil || len(objs) != 1 || objs[0].meta.GetName() != "a" {
		t.Fatalf("decodeManifests(a comment and a ServiceAccount) = %v, %v; want the ServiceAccount alone", objs, err)
	}
}
