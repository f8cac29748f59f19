package k8s

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// expectation is what one values file of charts/scim-gateway/ci (or the
// example) must render.
type expectation struct {
	// objects is the render's inventory, "Kind name", sorted.
	objects []string
	// pendingKeys name top-level keys of the rendered configuration that
	// the gateway may not know yet: the chart renders them ahead of the
	// gateway. `gateway validate` must accept the configuration, or reject
	// it for those keys alone. Empty: it must accept it.
	pendingKeys []string
}

var expectations = map[string]expectation{
	"defaults": {
		objects: []string{
			"ConfigMap " + fullname, "Deployment " + fullname, "NetworkPolicy " + fullname,
			"PodDisruptionBudget " + fullname, "Secret " + fullname + "-token", "Service " + fullname,
			"ServiceAccount " + fullname,
		},
	},
	"observability": {
		objects: []string{
			"ConfigMap " + fullname, "ConfigMap " + fullname + "-dashboards", "Deployment " + fullname,
			"Ingress " + fullname, "NetworkPolicy " + fullname, "PodDisruptionBudget " + fullname,
			"Secret " + fullname + "-token", "Service " + fullname, "ServiceAccount " + fullname,
			"ServiceMonitor " + fullname,
		},
		pendingKeys: []string{"telemetry"},
	},
	"redis-sentinel": {
		objects: []string{
			"ConfigMap " + fullname, "Deployment " + fullname, "NetworkPolicy " + fullname,
			"PodDisruptionBudget " + fullname, "Service " + fullname, "ServiceAccount " + fullname,
		},
		pendingKeys: []string{"cache"},
	},
	"redis-cluster": {
		objects: []string{
			"ConfigMap " + fullname, "Deployment " + fullname, "NetworkPolicy " + fullname,
			"PodDisruptionBudget " + fullname, "Secret " + fullname + "-token", "Service " + fullname,
			"ServiceAccount " + fullname,
		},
		pendingKeys: []string{"cache"},
	},
	"redis-internal": {
		objects: []string{
			"ConfigMap " + fullname, "Deployment " + fullname, "Deployment " + fullname + "-redis",
			"HorizontalPodAutoscaler " + fullname, "NetworkPolicy " + fullname, "NetworkPolicy " + fullname + "-redis",
			"PodDisruptionBudget " + fullname, "Secret " + fullname, "Secret " + fullname + "-token",
			"Service " + fullname, "Service " + fullname + "-redis", "ServiceAccount " + fullname,
		},
		pendingKeys: []string{"cache"},
	},
	"tls": {
		objects: []string{
			"ConfigMap " + fullname, "Deployment " + fullname, "NetworkPolicy " + fullname,
			"PodDisruptionBudget " + fullname, "Secret " + fullname + "-token", "Service " + fullname,
			"ServiceAccount " + fullname, "ServiceMonitor " + fullname,
		},
	},
	"okta-webex": {
		objects: []string{
			"ConfigMap " + fullname, "Deployment " + fullname, "HorizontalPodAutoscaler " + fullname,
			"Ingress " + fullname, "NetworkPolicy " + fullname, "PodDisruptionBudget " + fullname,
			"Service " + fullname, "ServiceAccount " + fullname,
		},
		pendingKeys: []string{"cache"},
	},
}

// gatewayConfig is the rendered config.yaml, decoded loosely: the gateway
// decodes it strictly itself (see checkGatewayValidates).
type gatewayConfig struct {
	Server struct {
		Listen    string `json:"listen"`
		PublicURL string `json:"publicURL"`
		TLS       *struct {
			CertFile string `json:"certFile"`
			KeyFile  string `json:"keyFile"`
		} `json:"tls"`
	} `json:"server"`
	Targets []struct {
		Name    string `json:"name"`
		Adapter string `json:"adapter"`
	} `json:"targets"`
	Cache struct {
		Redis *struct {
			Addrs       []string  `json:"addrs"`
			MasterName  string    `json:"masterName"`
			Cluster     bool      `json:"cluster"`
			DB          int       `json:"db"`
			PasswordEnv string    `json:"passwordEnv"`
			TLS         *struct{} `json:"tls"`
		} `json:"redis"`
	} `json:"cache"`
}

// The top-level keys of the gateway's configuration the chart may write.
var configKeys = []string{"server", "log", "telemetry", "targets", "credentials", "cache"}

func TestRenderedCharts(t *testing.T) {
	rs := renders(t)
	seen := map[string]bool{}
	for _, r := range rs {
		seen[r.name] = true
		t.Run(r.name, func(t *testing.T) {
			want, ok := expectations[r.name]
			if !ok {
				t.Fatalf("no expectation for values file %s.yaml: add it to expectations", r.name)
			}
			if got := r.inventory(); !slices.Equal(got, want.objects) {
				t.Errorf("objects:\n got %q\nwant %q", got, want.objects)
			}
			checkMetadata(t, r)
			cfg, raw := checkConfigMap(t, r)
			dep := named[*appsv1.Deployment](t, r, fullname)
			checkDeployment(t, r, dep, cfg, raw)
			for _, d := range all[*appsv1.Deployment](r) {
				checkPodSecurity(t, d)
			}
			checkSelectors(t, r, dep, cfg)
			checkSecrets(t, r, dep)
			checkGatewayValidates(t, r, dep, cfg, raw, want.pendingKeys)
		})
	}
	for name := range expectations {
		if !seen[name] {
			t.Errorf("values file %s.yaml was not rendered", name)
		}
	}
}

// checkMetadata checks what every object carries: the release namespace,
// a valid name and the chart's labels.
func checkMetadata(t *testing.T, r *render) {
	t.Helper()
	for _, o := range r.objects {
		m := o.meta
		id := o.kind + " " + m.GetName()
		if errs := validation.IsDNS1123Subdomain(m.GetName()); len(errs) > 0 {
			t.Errorf("%s: name: %v", id, errs)
		}
		if o.kind == "Service" {
			if errs := validation.IsDNS1035Label(m.GetName()); len(errs) > 0 {
				t.Errorf("%s: name: %v", id, errs)
			}
		}
		wantNS := namespace
		if o.kind == "ConfigMap" && strings.HasSuffix(m.GetName(), "-dashboards") && r.name == "observability" {
			wantNS = "monitoring" // dashboards.namespace
		}
		if m.GetNamespace() != wantNS {
			t.Errorf("%s: namespace %q, want %q", id, m.GetNamespace(), wantNS)
		}
		l := m.GetLabels()
		for k, v := range map[string]string{
			"app.kubernetes.io/name":       "scim-gateway",
			"app.kubernetes.io/instance":   release,
			"app.kubernetes.io/managed-by": "Helm",
		} {
			if l[k] != v {
				t.Errorf("%s: label %s=%q, want %q", id, k, l[k], v)
			}
		}
		for _, k := range []string{"helm.sh/chart", "app.kubernetes.io/version", "app.kubernetes.io/component"} {
			if l[k] == "" {
				t.Errorf("%s: label %s missing", id, k)
			}
		}
		for k, v := range l {
			if errs := validation.IsQualifiedName(k); len(errs) > 0 {
				t.Errorf("%s: label key %q: %v", id, k, errs)
			}
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				t.Errorf("%s: label %s value %q: %v", id, k, v, errs)
			}
		}
	}
}

// checkConfigMap checks the gateway's ConfigMap and returns its config.yaml,
// decoded and as written.
func checkConfigMap(t *testing.T, r *render) (*gatewayConfig, string) {
	t.Helper()
	cm := named[*corev1.ConfigMap](t, r, fullname)
	raw, ok := cm.Data["config.yaml"]
	if !ok || len(cm.Data) != 1 {
		t.Fatalf("ConfigMap %s: data keys %v, want config.yaml alone", cm.Name, keys(cm.Data))
	}
	var top map[string]any
	if err := yaml.Unmarshal([]byte(raw), &top); err != nil {
		t.Fatalf("config.yaml: %v\n%s", err, raw)
	}
	for k := range top {
		if !slices.Contains(configKeys, k) {
			t.Errorf("config.yaml: top-level key %q is not one of %v", k, configKeys)
		}
	}
	for _, k := range []string{"server", "targets", "credentials"} {
		if _, ok := top[k]; !ok {
			t.Errorf("config.yaml: no %s", k)
		}
	}
	var cfg gatewayConfig
	if err := yaml.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatalf("config.yaml: %v", err)
	}
	if len(cfg.Targets) == 0 {
		t.Error("config.yaml: no targets")
	}
	for i, tg := range cfg.Targets {
		if tg.Name == "" || tg.Adapter == "" {
			t.Errorf("config.yaml: targets[%d]: name %q, adapter %q: both required", i, tg.Name, tg.Adapter)
		}
	}
	if rd := cfg.Cache.Redis; rd != nil {
		if len(rd.Addrs) == 0 || (rd.MasterName != "" && rd.Cluster) || (rd.Cluster && rd.DB != 0) {
			t.Errorf("config.yaml: cache.redis %+v: want addrs, and masterName (Sentinel) or cluster or neither", rd)
		}
		for _, a := range rd.Addrs {
			if _, _, err := net.SplitHostPort(a); err != nil {
				t.Errorf("config.yaml: cache.redis.addrs: %v", err)
			}
		}
	}
	return &cfg, raw
}

func checkDeployment(t *testing.T, r *render, dep *appsv1.Deployment, cfg *gatewayConfig, raw string) {
	t.Helper()
	spec := dep.Spec.Template.Spec
	if len(spec.Containers) != 1 || spec.Containers[0].Name != "gateway" {
		t.Fatalf("Deployment: containers %v, want one named gateway", spec.Containers)
	}
	c := spec.Containers[0]

	// The configuration reaches the container where its args say.
	if len(c.Args) != 3 || c.Args[0] != "serve" || c.Args[1] != "--config" {
		t.Fatalf("container args %q, want serve --config FILE", c.Args)
	}
	mount := mountOf(c, path.Dir(c.Args[2]))
	vol := volume(spec, mount)
	if vol == nil || vol.ConfigMap == nil || vol.ConfigMap.Name != fullname || path.Base(c.Args[2]) != "config.yaml" {
		t.Errorf("--config %s is not config.yaml of a volume of ConfigMap %s (mount %v, volume %v)", c.Args[2], fullname, mount, vol)
	}
	sum := sha256.Sum256([]byte(strings.TrimSuffix(raw, "\n")))
	if got := dep.Spec.Template.Annotations["checksum/config"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("annotation checksum/config %q is not the SHA-256 of config.yaml", got)
	}

	// The port, server.listen and the probes agree.
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" {
		t.Fatalf("container ports %v, want one named http", c.Ports)
	}
	_, port, err := net.SplitHostPort(cfg.Server.Listen)
	if err != nil || port != fmt.Sprint(c.Ports[0].ContainerPort) {
		t.Errorf("server.listen %q does not listen on containerPort %d", cfg.Server.Listen, c.Ports[0].ContainerPort)
	}
	scheme := corev1.URISchemeHTTP
	if cfg.Server.TLS != nil {
		scheme = corev1.URISchemeHTTPS
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s probe: want an httpGet", p.name)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path || g.Port.String() != "http" || g.Scheme != scheme {
			t.Errorf("%s probe: %s %s port %s, want %s %s port http", p.name, g.Scheme, g.Path, g.Port.String(), scheme, p.path)
		}
	}

	// TLS: the files the configuration names come from a mounted Secret.
	if tls := cfg.Server.TLS; tls != nil {
		for _, f := range []string{tls.CertFile, tls.KeyFile} {
			v := volume(spec, mountOf(c, path.Dir(f)))
			if v == nil || v.Secret == nil {
				t.Errorf("server.tls file %s is not in a mounted Secret", f)
			}
		}
	}

	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %v: want cpu and memory requests and a memory limit", c.Resources)
	}
	hpa := all[*autoscalingv2.HorizontalPodAutoscaler](r)
	if (dep.Spec.Replicas == nil) != (len(hpa) == 1) {
		t.Errorf("replicas %v with %d HPAs: an HPA owns the replica count, else the Deployment sets it", dep.Spec.Replicas, len(hpa))
	}
	for _, h := range hpa {
		ref := h.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || ref.Name != dep.Name {
			t.Errorf("HPA scales %v, want Deployment %s", ref, dep.Name)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas > h.Spec.MaxReplicas {
			t.Errorf("HPA min %v, max %d", h.Spec.MinReplicas, h.Spec.MaxReplicas)
		}
	}
	if g := spec.TerminationGracePeriodSeconds; c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil &&
		(g == nil || *g <= c.Lifecycle.PreStop.Sleep.Seconds) {
		t.Errorf("terminationGracePeriodSeconds %v does not exceed the preStop sleep %d", g, c.Lifecycle.PreStop.Sleep.Seconds)
	}
}

// checkPodSecurity checks the hardening every pod of the chart has.
func checkPodSecurity(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	spec := d.Spec.Template.Spec
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("Deployment %s: automountServiceAccountToken not false", d.Name)
	}
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("Deployment %s container %s: no securityContext", d.Name, c.Name)
			continue
		}
		id := "Deployment " + d.Name + " container " + c.Name
		if !isTrue(sc.RunAsNonRoot) && !isTrue(psc.RunAsNonRoot) {
			t.Errorf("%s: runAsNonRoot not set", id)
		}
		if !isTrue(sc.ReadOnlyRootFilesystem) {
			t.Errorf("%s: readOnlyRootFilesystem not true", id)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: allowPrivilegeEscalation not false", id)
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s: capabilities %v, want drop ALL and no add", id, sc.Capabilities)
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = psc.SeccompProfile
		}
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: seccompProfile %v, want RuntimeDefault", id, seccomp)
		}
		if c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: no memory limit", id)
		}
	}
}

// checkSelectors checks that everything that selects the gateway's pods or
// Service selects them.
func checkSelectors(t *testing.T, r *render, dep *appsv1.Deployment, cfg *gatewayConfig) {
	t.Helper()
	pods := labels.Set(dep.Spec.Template.Labels)
	matches := func(what string, sel *metav1.LabelSelector, set labels.Set) {
		t.Helper()
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil || s.Empty() || !s.Matches(set) {
			t.Errorf("%s: selector %v does not select %v (%v)", what, sel, set, err)
		}
	}
	matches("Deployment", dep.Spec.Selector, pods)
	for i, c := range dep.Spec.Template.Spec.TopologySpreadConstraints {
		matches(fmt.Sprintf("topologySpreadConstraints[%d]", i), c.LabelSelector, pods)
	}
	svc := named[*corev1.Service](t, r, fullname)
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(pods) || len(svc.Spec.Selector) == 0 {
		t.Errorf("Service selector %v does not select the gateway's pods", svc.Spec.Selector)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http" || svc.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service ports %v, want one named http to targetPort http", svc.Spec.Ports)
	}
	for _, p := range all[*policyv1.PodDisruptionBudget](r) {
		matches("PodDisruptionBudget", p.Spec.Selector, pods)
		if (p.Spec.MinAvailable == nil) == (p.Spec.MaxUnavailable == nil) {
			t.Errorf("PodDisruptionBudget: want one of minAvailable and maxUnavailable")
		}
	}
	np := named[*networkingv1.NetworkPolicy](t, r, fullname)
	matches("NetworkPolicy", &np.Spec.PodSelector, pods)
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].Ports) != 1 || np.Spec.Ingress[0].Ports[0].Port.String() != "http" {
		t.Errorf("NetworkPolicy ingress %v, want one rule for port http", np.Spec.Ingress)
	}
	for _, p := range all[*networkingv1.NetworkPolicy](r) {
		if p.Name == fullname+"-redis" {
			if len(p.Spec.Ingress) != 1 || len(p.Spec.Ingress[0].From) != 1 {
				t.Fatalf("Redis NetworkPolicy ingress %v, want the gateway's pods alone", p.Spec.Ingress)
			}
			matches("Redis NetworkPolicy from", p.Spec.Ingress[0].From[0].PodSelector, pods)
			redis := named[*appsv1.Deployment](t, r, fullname+"-redis")
			matches("Redis NetworkPolicy", &p.Spec.PodSelector, redis.Spec.Template.Labels)
			if s, _ := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector); s.Matches(pods) {
				t.Errorf("Redis NetworkPolicy selects the gateway's pods too")
			}
			rsvc := named[*corev1.Service](t, r, fullname+"-redis")
			if !labels.SelectorFromSet(rsvc.Spec.Selector).Matches(labels.Set(redis.Spec.Template.Labels)) ||
				labels.SelectorFromSet(rsvc.Spec.Selector).Matches(pods) {
				t.Errorf("Redis Service selector %v", rsvc.Spec.Selector)
			}
			if rd := cfg.Cache.Redis; rd == nil || !slices.Equal(rd.Addrs, []string{rsvc.Name + ":6379"}) {
				t.Errorf("config cache.redis %+v does not point at Service %s", rd, rsvc.Name)
			}
		}
	}
	for _, in := range all[*networkingv1.Ingress](r) {
		for _, rule := range in.Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				b := p.Backend.Service
				if b == nil || b.Name != svc.Name || b.Port.Name != "http" {
					t.Errorf("Ingress %s%s: backend %v, want Service %s port http", rule.Host, p.Path, b, svc.Name)
				}
			}
		}
	}
	for _, sm := range all[*serviceMonitor](r) {
		matches("ServiceMonitor", &sm.Spec.Selector, svc.Labels)
		if !slices.Contains(sm.Spec.NamespaceSelector.MatchNames, namespace) {
			t.Errorf("ServiceMonitor namespaces %v, want %s", sm.Spec.NamespaceSelector.MatchNames, namespace)
		}
		if len(sm.Spec.Endpoints) != 1 {
			t.Fatalf("ServiceMonitor endpoints %v, want one", sm.Spec.Endpoints)
		}
		e := sm.Spec.Endpoints[0]
		wantScheme := ""
		if cfg.Server.TLS != nil {
			wantScheme = "https"
		}
		if e.Port != "http" || e.Path != "/metrics" || e.Scheme != wantScheme {
			t.Errorf("ServiceMonitor endpoint port %q path %q scheme %q, want http /metrics %q", e.Port, e.Path, e.Scheme, wantScheme)
		}
	}
	for _, cm := range all[*corev1.ConfigMap](r) {
		if cm.Name == fullname+"-dashboards" {
			checkDashboardConfigMap(t, cm)
		}
	}
}

// checkDashboardConfigMap checks that the dashboards ConfigMap carries the
// dashboard file as it is, labelled for Grafana's sidecar.
func checkDashboardConfigMap(t *testing.T, cm *corev1.ConfigMap) {
	t.Helper()
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboards ConfigMap: label grafana_dashboard=%q, want \"1\"", cm.Labels["grafana_dashboard"])
	}
	want, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	got := cm.Data["scim-gateway.json"]
	if strings.TrimSpace(got) != strings.TrimSpace(string(want)) {
		t.Errorf("dashboards ConfigMap: scim-gateway.json differs from %s", dashboardFile)
	}
	if !json.Valid([]byte(got)) {
		t.Error("dashboards ConfigMap: scim-gateway.json is not JSON")
	}
}

// checkSecrets checks the container's environment against the Secrets the
// chart makes and the variables the configuration names.
func checkSecrets(t *testing.T, r *render, dep *appsv1.Deployment) {
	t.Helper()
	c := dep.Spec.Template.Spec.Containers[0]
	chartSecrets := map[string]*corev1.Secret{}
	for _, s := range all[*corev1.Secret](r) {
		chartSecrets[s.Name] = s
	}
	env := map[string]bool{}
	for _, e := range c.Env {
		if env[e.Name] {
			t.Errorf("env %s: set twice", e.Name)
		}
		env[e.Name] = true
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		if s, ok := chartSecrets[ref.Name]; ok {
			_, inData := s.Data[ref.Key]
			_, inString := s.StringData[ref.Key]
			if !inData && !inString {
				t.Errorf("env %s: Secret %s has no key %s", e.Name, ref.Name, ref.Key)
			}
		}
	}
	cm := named[*corev1.ConfigMap](t, r, fullname)
	var cfg any
	if err := yaml.Unmarshal([]byte(cm.Data["config.yaml"]), &cfg); err != nil {
		t.Fatal(err)
	}
	for key, name := range envRefs(cfg, "") {
		if !env[name] {
			t.Errorf("config.yaml %s: variable %s is not in the container's environment", key, name)
		}
	}
	if s, ok := chartSecrets[fullname+"-token"]; ok {
		sum := sha256.Sum256(s.Data["token"])
		if len(s.Data["token"]) < 32 || string(s.Data["sha256"]) != hex.EncodeToString(sum[:]) {
			t.Errorf("Secret %s: sha256 is not the SHA-256 of a token of 32 or more bytes", s.Name)
		}
	}
}

// envRefs finds the keys of a configuration that name an environment
// variable (tokenEnv, sha256Env, secretEnv, passwordEnv, ...): key path →
// variable.
func envRefs(v any, at string) map[string]string {
	out := map[string]string{}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			p := strings.TrimPrefix(at+"."+k, ".")
			if s, ok := x.(string); ok && strings.HasSuffix(k, "Env") {
				out[p] = s
				continue
			}
			for kk, vv := range envRefs(x, p) {
				out[kk] = vv
			}
		}
	case []any:
		for i, x := range v {
			for kk, vv := range envRefs(x, fmt.Sprintf("%s[%d]", at, i)) {
				out[kk] = vv
			}
		}
	}
	return out
}

// checkGatewayValidates runs `gateway validate` on the rendered
// configuration as the pod would see it: with the container's environment
// (values of the chart's own Secrets as they are, those of other Secrets
// made up) and, for server.tls, a certificate where the Secret is mounted.
// With pendingKeys, the gateway may reject those keys and nothing else.
func checkGatewayValidates(t *testing.T, r *render, dep *appsv1.Deployment, cfg *gatewayConfig, raw string, pendingKeys []string) {
	t.Helper()
	bin := os.Getenv("GATEWAY_BIN")
	if bin == "" {
		t.Fatal("GATEWAY_BIN is unset: scripts/helm.sh builds the gateway and runs these tests")
	}
	dir := t.TempDir()
	if tls := cfg.Server.TLS; tls != nil {
		// The mount directory cannot be created here; the files go to dir
		// and the configuration names them there.
		certDir := path.Dir(tls.CertFile)
		if path.Dir(tls.KeyFile) != certDir {
			t.Fatalf("server.tls: certFile and keyFile in different directories")
		}
		writeCertificate(t, filepath.Join(dir, path.Base(tls.CertFile)), filepath.Join(dir, path.Base(tls.KeyFile)))
		raw = strings.ReplaceAll(raw, certDir+"/", dir+"/")
	}
	file := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(file, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "validate", "--config", file)
	cmd.Env = []string{}
	for _, e := range dep.Spec.Template.Spec.Containers[0].Env {
		v := e.Value
		if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
			// 64 hex digits pass for a SHA-256 as well as for a secret.
			v = strings.Repeat("5e", 32)
			for _, s := range all[*corev1.Secret](r) {
				if s.Name != ref.SecretKeyRef.Name {
					continue
				}
				if b, ok := s.Data[ref.SecretKeyRef.Key]; ok {
					v = string(b)
				} else if sv, ok := s.StringData[ref.SecretKeyRef.Key]; ok {
					v = sv
				}
			}
		}
		cmd.Env = append(cmd.Env, e.Name+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err == nil && strings.Contains(string(out), ": valid;") {
		return
	}
	// The problems, one per line after the first, each starting with its key.
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	pendingOnly := len(pendingKeys) > 0 && len(lines) > 1
	for _, l := range lines[1:] {
		pendingOnly = pendingOnly && slices.ContainsFunc(pendingKeys, func(k string) bool {
			return strings.HasPrefix(l, k+":") || strings.HasPrefix(l, k+".")
		})
	}
	if !pendingOnly {
		t.Errorf("gateway validate: %v\n%s\nconfig.yaml:\n%s", err, out, raw)
	}
}

// writeCertificate writes a self-signed certificate for localhost and its
// key, PEM-encoded.
func writeCertificate(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mountOf(c corev1.Container, dir string) *corev1.VolumeMount {
	for i, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) == path.Clean(dir) {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func volume(spec corev1.PodSpec, m *corev1.VolumeMount) *corev1.Volume {
	if m == nil {
		return nil
	}
	for i, v := range spec.Volumes {
		if v.Name == m.Name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

func isTrue(b *bool) bool { return b != nil && *b }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestEnvRefs(t *testing.T) {
	var cfg any
	doc := `
targets:
  - name: webex
    settings: {tokenEnv: WEBEX_TOKEN, orgID: x}
credentials:
  tokens: [{name: a, sha256Env: A_SHA}, {name: b, sha256: abc}]
  jwt: [{issuer: i, secretEnv: JWT_SECRET}]
redis: {passwordEnv: REDIS_PASSWORD}
`
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	got := envRefs(cfg, "")
	want := map[string]string{
		"targets[0].settings.tokenEnv":    "WEBEX_TOKEN",
		"credentials.tokens[0].sha256Env": "A_SHA",
		"credentials.jwt[0].secretEnv":    "JWT_SECRET",
		"redis.passwordEnv":               "REDIS_PASSWORD",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("envRefs = %v, want %v", got, want)
	}
}
