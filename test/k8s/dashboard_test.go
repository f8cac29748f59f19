package k8s

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// The files checked, relative to this directory.
const (
	dashboardFile = "../../charts/scim-gateway/dashboards/scim-gateway.json"
	metricsDoc    = "../../docs/metrics.md"
)

// scrapeLabels are the labels Prometheus adds to every series it scrapes
// (the Prometheus Operator adds the last three); a query may group by them.
var scrapeLabels = []string{"instance", "job", "namespace", "pod", "service"}

// metric is one row of the table in docs/metrics.md.
type metric struct {
	name, typ string
	labels    []string
}

// readMetricsDoc parses the metrics table of docs/metrics.md: the rows whose
// first cell is a backquoted metric name.
func readMetricsDoc(t *testing.T) map[string]metric {
	t.Helper()
	data, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	quoted := regexp.MustCompile("`([^`]+)`")
	out := map[string]metric{}
	for line := range strings.Lines(string(data)) {
		if !strings.HasPrefix(line, "| `scim_gateway_") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 7 {
			t.Fatalf("%s: row %q: want | metric | instrument | type | unit | labels | meaning |", metricsDoc, line)
		}
		m := metric{name: strings.Trim(strings.TrimSpace(cells[1]), "`"), typ: strings.TrimSpace(cells[3])}
		for _, l := range quoted.FindAllStringSubmatch(cells[5], -1) {
			m.labels = append(m.labels, l[1])
		}
		if !slices.Contains([]string{"counter", "gauge", "histogram"}, m.typ) {
			t.Errorf("%s: %s: type %q, want counter, gauge or histogram", metricsDoc, m.name, m.typ)
		}
		if (m.typ == "counter") != strings.HasSuffix(m.name, "_total") {
			t.Errorf("%s: %s: a counter's name, and only a counter's, ends in _total", metricsDoc, m.name)
		}
		if _, dup := out[m.name]; dup {
			t.Errorf("%s: %s listed twice", metricsDoc, m.name)
		}
		out[m.name] = m
	}
	if len(out) == 0 {
		t.Fatalf("%s: no metric rows", metricsDoc)
	}
	return out
}

// selector is one use of a metric in a query: its name and the label
// matchers written in its braces.
type selector struct {
	metric   string
	matchers map[string]string // label → operator and value, e.g. `=~"$target"`
}

// query is what a PromQL expression reads.
type query struct {
	selectors []selector
	grouping  []string // labels of by, without, on, ignoring, group_left, group_right
}

// promqlKeywords are the identifiers of PromQL that name neither a metric
// nor a function.
var promqlKeywords = []string{"and", "or", "unless", "bool", "offset", "inf", "nan"}

// aggregations are PromQL's aggregation operators, which may be followed by
// by or without before their parenthesized argument.
var aggregations = []string{
	"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
	"bottomk", "topk", "quantile", "limitk", "limit_ratio",
}

// groupingWords take a parenthesized list of labels.
var groupingWords = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}

type token struct {
	kind byte // 'i' identifier, 's' string, 'n' number, 'v' variable, or the punctuation itself
	text string
}

func tokenize(expr string) ([]token, error) {
	var toks []token
	rs := []rune(expr)
	isIdent := func(r rune, first bool) bool {
		return r == '_' || r == ':' || unicode.IsLetter(r) || (!first && unicode.IsDigit(r))
	}
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '"' || r == '\'' || r == '`':
			j := i + 1
			var sb strings.Builder
			for ; j < len(rs) && rs[j] != r; j++ {
				if rs[j] == '\\' && r != '`' && j+1 < len(rs) {
					j++
				}
				sb.WriteRune(rs[j])
			}
			if j >= len(rs) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			toks = append(toks, token{'s', sb.String()})
			i = j + 1
		case r == '$':
			j := i + 1
			if j < len(rs) && rs[j] == '{' {
				for j < len(rs) && rs[j] != '}' {
					j++
				}
				j++
			} else {
				for j < len(rs) && isIdent(rs[j], false) {
					j++
				}
			}
			toks = append(toks, token{'v', string(rs[i:min(j, len(rs))])})
			i = j
		case isIdent(r, true):
			j := i
			for j < len(rs) && isIdent(rs[j], false) {
				j++
			}
			toks = append(toks, token{'i', string(rs[i:j])})
			i = j
		case unicode.IsDigit(r) || r == '.':
			j := i
			for j < len(rs) && (unicode.IsDigit(rs[j]) || unicode.IsLetter(rs[j]) || rs[j] == '.') {
				j++
			}
			toks = append(toks, token{'n', string(rs[i:j])})
			i = j
		default:
			// Operators of two characters matter only in label matchers.
			if i+1 < len(rs) && slices.Contains([]string{"!=", "=~", "!~", "==", "<=", ">="}, string(rs[i:i+2])) {
				toks = append(toks, token{'o', string(rs[i : i+2])})
				i += 2
				continue
			}
			toks = append(toks, token{byte(r), string(r)})
			i++
		}
	}
	return toks, nil
}

// parseQuery finds the metrics, matchers and grouping labels of a PromQL
// expression. It understands the PromQL the dashboard writes; anything it
// does not (a selector without a metric name, say) is an error, so that a
// query it cannot check fails the test rather than passing it.
func parseQuery(expr string) (query, error) {
	toks, err := tokenize(expr)
	if err != nil {
		return query{}, err
	}
	var q query
	next := func(i int) byte {
		if i+1 < len(toks) {
			return toks[i+1].kind
		}
		return 0
	}
	for i := 0; i < len(toks); i++ {
		tk := toks[i]
		switch tk.kind {
		case 'i':
			switch {
			case slices.Contains(groupingWords, tk.text):
				if next(i) != '(' {
					return q, fmt.Errorf("%s without a label list", tk.text)
				}
				j := i + 2
				for ; j < len(toks) && toks[j].kind != ')'; j++ {
					switch toks[j].kind {
					case 'i':
						q.grouping = append(q.grouping, toks[j].text)
					case ',':
					default:
						return q, fmt.Errorf("%s (...): unexpected %q", tk.text, toks[j].text)
					}
				}
				i = j
			case slices.Contains(promqlKeywords, strings.ToLower(tk.text)):
			case next(i) == '(' || slices.Contains(aggregations, tk.text):
				// A function or an aggregation.
			case next(i) == '{':
				sel := selector{metric: tk.text, matchers: map[string]string{}}
				j := i + 2
				for ; j < len(toks) && toks[j].kind != '}'; j++ {
					if toks[j].kind == ',' {
						continue
					}
					if j+2 >= len(toks) || toks[j].kind != 'i' || (toks[j+1].kind != 'o' && toks[j+1].kind != '=') || toks[j+2].kind != 's' {
						return q, fmt.Errorf("%s{...}: want label, operator, string", tk.text)
					}
					sel.matchers[toks[j].text] = toks[j+1].text + `"` + toks[j+2].text + `"`
					j += 2
				}
				q.selectors = append(q.selectors, sel)
				i = j
			default:
				q.selectors = append(q.selectors, selector{metric: tk.text, matchers: map[string]string{}})
			}
		case '{':
			return q, fmt.Errorf("a selector without a metric name")
		case '[':
			for i < len(toks) && toks[i].kind != ']' {
				i++
			}
		case 's', 'v':
			return q, fmt.Errorf("unexpected %q outside a selector or range", tk.text)
		}
	}
	return q, nil
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		expr         string
		wantMetrics  []string
		wantGrouping []string
		wantErr      bool
	}{
		{`sum by (target) (rate(a_total{target=~"$target"}[$__rate_interval]))`, []string{"a_total"}, []string{"target"}, false},
		{`histogram_quantile(0.99, sum by (target, le) (rate(b_bucket{x="1",y!~"a\"}"}[5m])))`, []string{"b_bucket"}, []string{"target", "le"}, false},
		{`sum(rate(a_total{status=~"5.."}[1m])) / sum(rate(a_total[1m])) > bool 0.5`, []string{"a_total", "a_total"}, nil, false},
		{`min(up) or vector(0)`, []string{"up"}, nil, false},
		{`a * on (instance) group_left (version) b_info`, []string{"a", "b_info"}, []string{"instance", "version"}, false},
		{`sum(rate(a_total[5m])) by (job)`, []string{"a_total"}, []string{"job"}, false},
		{`{__name__="a"}`, nil, nil, true},
		{`sum by target (a)`, nil, nil, true},
		{`a{b}`, nil, nil, true},
		{`a{b="c`, nil, nil, true},
	}
	for _, tt := range tests {
		q, err := parseQuery(tt.expr)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseQuery(%q) = %+v, want an error", tt.expr, q)
			}
			continue
		}
		var got []string
		for _, s := range q.selectors {
			got = append(got, s.metric)
		}
		if err != nil || !slices.Equal(got, tt.wantMetrics) || !slices.Equal(q.grouping, tt.wantGrouping) {
			t.Errorf("parseQuery(%q) = metrics %q, grouping %q, %v; want %q, %q", tt.expr, got, q.grouping, err, tt.wantMetrics, tt.wantGrouping)
		}
	}
	q, _ := parseQuery(`rate(a_total{target=~"$target",status="429"}[1m])`)
	if m := q.selectors[0].matchers; m["target"] != `=~"$target"` || m["status"] != `="429"` {
		t.Errorf("matchers = %v", m)
	}
}

// panel is the part of a Grafana panel the checks read.
type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
		Exemplar     bool   `json:"exemplar"`
		Datasource   *struct {
			UID string `json:"uid"`
		} `json:"datasource"`
	} `json:"targets"`
	Links []struct {
		Title string `json:"title"`
		URL   string `json:"url"`
	} `json:"links"`
	Panels []panel `json:"panels"`
}

type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
			Multi bool   `json:"multi"`
		} `json:"list"`
	} `json:"templating"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// TestDashboardUsesDocumentedMetrics checks every query of the dashboard
// against docs/metrics.md: each metric it reads is listed (a histogram
// through its _bucket, _sum or _count series), each label it matches or
// groups by is one of that metric's, a metric with a target label is
// filtered by the dashboard's target variable, and each listed metric is
// shown somewhere.
func TestDashboardUsesDocumentedMetrics(t *testing.T) {
	doc := readMetricsDoc(t)
	d := readDashboard(t)
	used := map[string]bool{}
	legendLabel := regexp.MustCompile(`\{\{\s*([a-zA-Z_]+)\s*\}\}`)

	// resolve returns the documented metric behind a series name and the
	// labels a selector of it may use.
	resolve := func(name string) (metric, []string, bool) {
		if m, ok := doc[name]; ok && m.typ != "histogram" {
			return m, m.labels, true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base, ok := strings.CutSuffix(name, suffix)
			if m, found := doc[base]; ok && found && m.typ == "histogram" {
				if suffix == "_bucket" {
					return m, append(slices.Clone(m.labels), "le"), true
				}
				return m, m.labels, true
			}
		}
		return metric{}, nil, false
	}

	check := func(where, expr, legend string) {
		t.Helper()
		q, err := parseQuery(expr)
		if err != nil {
			t.Errorf("%s: %q: %v", where, expr, err)
			return
		}
		if len(q.selectors) == 0 {
			t.Errorf("%s: %q reads no metric", where, expr)
		}
		allowed := slices.Clone(scrapeLabels)
		for _, s := range q.selectors {
			m, labels, ok := resolve(s.metric)
			if !ok {
				t.Errorf("%s: metric %s is not in %s", where, s.metric, metricsDoc)
				continue
			}
			used[m.name] = true
			allowed = append(allowed, labels...)
			for l := range s.matchers {
				if !slices.Contains(labels, l) {
					t.Errorf("%s: %s{%s=...}: %s has no label %s in %s", where, s.metric, l, m.name, l, metricsDoc)
				}
			}
			if slices.Contains(m.labels, "target") && s.matchers["target"] != `=~"$target"` {
				t.Errorf("%s: %s is not filtered by target=~\"$target\"", where, s.metric)
			}
		}
		for _, l := range q.grouping {
			if !slices.Contains(allowed, l) {
				t.Errorf("%s: %q groups by %s, a label of none of its metrics", where, expr, l)
			}
		}
		for _, m := range legendLabel.FindAllStringSubmatch(legend, -1) {
			if !slices.Contains(allowed, m[1]) {
				t.Errorf("%s: legend %q names label %s, which its query has not", where, legend, m[1])
			}
		}
	}

	for _, p := range flatten(d.Panels) {
		for i, tg := range p.Targets {
			check(fmt.Sprintf("panel %q query %d", p.Title, i), tg.Expr, tg.LegendFormat)
		}
	}
	labelValues := regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var qs string
		switch q := v.Query.(type) {
		case string:
			qs = q
		case map[string]any:
			qs, _ = q["query"].(string)
		}
		m := labelValues.FindStringSubmatch(qs)
		if m == nil {
			t.Errorf("variable %s: query %q, want label_values(metric, label)", v.Name, qs)
			continue
		}
		if dm, ok := doc[m[1]]; !ok || !slices.Contains(dm.labels, m[2]) {
			t.Errorf("variable %s: %s with label %s is not in %s", v.Name, m[1], m[2], metricsDoc)
		}
	}
	for name := range doc {
		if !used[name] {
			t.Errorf("%s lists %s, which no panel shows", metricsDoc, name)
		}
	}
}

// TestDashboardShape checks the dashboard's variables, data sources, panel
// layout and the trace links of its latency panels.
func TestDashboardShape(t *testing.T) {
	d := readDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both required", d.UID, d.Title)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		q, _ := v.Query.(string)
		vars[v.Name] = v.Type + " " + q
		if v.Name == "target" && (v.Type != "query" || !v.Multi) {
			t.Errorf("variable target: type %s, multi %v; want a multi-value query", v.Type, v.Multi)
		}
	}
	for name, want := range map[string]string{"datasource": "datasource prometheus", "tempo": "datasource tempo"} {
		if vars[name] != want {
			t.Errorf("variable %s: %q, want %q", name, vars[name], want)
		}
	}
	if _, ok := vars["target"]; !ok {
		t.Error("no target variable")
	}

	ids := map[int]bool{}
	panels := flatten(d.Panels)
	for _, p := range panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %v, want the datasource variable", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q: no query", p.Title)
		}
		latency := false
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: a query's datasource is not the datasource variable", p.Title)
			}
			if strings.Contains(tg.Expr, "histogram_quantile") && p.Type == "timeseries" {
				latency = true
				if !tg.Exemplar {
					t.Errorf("panel %q: latency query without exemplars: %s", p.Title, tg.Expr)
				}
			}
		}
		if latency && !slices.ContainsFunc(p.Links, func(l struct {
			Title string `json:"title"`
			URL   string `json:"url"`
		}) bool {
			return strings.HasPrefix(l.URL, "/explore") && strings.Contains(l.URL, "${tempo}") && strings.Contains(l.URL, "traceql")
		}) {
			t.Errorf("panel %q: a latency panel without a link to traces in Tempo", p.Title)
		}
	}
	// No two panels overlap on the 24-column grid.
	for i, a := range panels {
		if a.GridPos.W <= 0 || a.GridPos.H <= 0 || a.GridPos.X+a.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v", a.Title, a.GridPos)
		}
		for _, b := range panels[i+1:] {
			if a.GridPos.X < b.GridPos.X+b.GridPos.W && b.GridPos.X < a.GridPos.X+a.GridPos.W &&
				a.GridPos.Y < b.GridPos.Y+b.GridPos.H && b.GridPos.Y < a.GridPos.Y+a.GridPos.H {
				t.Errorf("panels %q and %q overlap", a.Title, b.Title)
			}
		}
	}
}

// flatten returns the panels with those of collapsed rows.
func flatten(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}
