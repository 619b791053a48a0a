package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

const dashboardPath = "../../configs/grafana-dashboard.json"

// dashboard is the part of a Grafana dashboard the checks read.
type dashboard struct {
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int              `json:"id"`
	Type       string           `json:"type"`
	Title      string           `json:"title"`
	Datasource *datasourceRef   `json:"datasource"`
	GridPos    *struct{ W int } `json:"gridPos"`
	Targets    []struct {
		Datasource *datasourceRef `json:"datasource"`
		Expr       string         `json:"expr"`
		RefID      string         `json:"refId"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // rows may nest panels
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

var (
	// metricNameRE finds the names of hashproxy's own, Go runtime and
	// process metrics in a PromQL expression.
	metricNameRE = regexp.MustCompile(`\b(?:hashproxy|go|process)_[a-z0-9_]+\b`)
	// rateArgRE finds the metric each rate or increase is taken of.
	rateArgRE = regexp.MustCompile(`\b(?:rate|increase)\(\s*([a-z_][a-z0-9_]*)`)
	// labelMatcherRE and labelClauseRE find label names in matchers and in
	// by, on and group clauses.
	labelMatcherRE = regexp.MustCompile(`([a-z_]+)\s*(?:=~|!~|!=|=)\s*"`)
	labelClauseRE  = regexp.MustCompile(`\b(?:by|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
)

// dashboardLabels are the labels a dashboard query may use: hashproxy's
// own, the histogram's le, and the target labels Prometheus adds.
var dashboardLabels = map[string]bool{
	"pool": true, "server": true, "command": true, "kind": true, "result": true, "reason": true,
	"le": true, "version": true, "commit": true, "goversion": true,
	"instance": true, "job": true,
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	return d
}

// queries returns every PromQL expression of the dashboard, keyed by where
// it is: panel titles and variable names.
func (d dashboard) queries(t *testing.T) map[string]string {
	t.Helper()
	out := make(map[string]string)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q string
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s: query is not a string: %v", v.Name, err)
		}
		out["variable "+v.Name] = q
	}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out["panel "+p.Title+" "+tg.RefID] = tg.Expr
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// exposedFamilies gathers a registry after one pool and one server have
// their handles and the server one request's latency, and returns the type of every metric family.
func exposedFamilies(t *testing.T) map[string]dto.MetricType {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := New(reg, BuildInfo{Version: "test"}, testLabels)
	m.Pool("main")
	m.Server("main", "cache-a").Duration(0).Observe(0.001)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	families := make(map[string]dto.MetricType, len(mfs))
	for _, mf := range mfs {
		families[mf.GetName()] = mf.GetType()
	}
	return families
}

// seriesNames maps every series name a query may use to its family: a
// histogram's series are its _bucket, _sum and _count.
func seriesNames(families map[string]dto.MetricType) map[string]string {
	names := make(map[string]string)
	for name, typ := range families {
		if typ == dto.MetricType_HISTOGRAM {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[name+suffix] = name
			}
			continue
		}
		names[name] = name
	}
	return names
}

func TestDashboardQueriesExistingMetrics(t *testing.T) {
	d := loadDashboard(t)
	families := exposedFamilies(t)
	series := seriesNames(families)
	used := make(map[string]bool)
	for where, expr := range d.queries(t) {
		names := metricNameRE.FindAllString(expr, -1)
		if len(names) == 0 {
			t.Errorf("%s: no metric in %q", where, expr)
		}
		for _, name := range names {
			family, ok := series[name]
			if !ok {
				t.Errorf("%s: %s is not in hashproxy's /metrics", where, name)
			}
			used[family] = true
		}
		for _, match := range rateArgRE.FindAllStringSubmatch(expr, -1) {
			if typ := families[series[match[1]]]; typ != dto.MetricType_COUNTER && typ != dto.MetricType_HISTOGRAM {
				t.Errorf("%s: rate of %s, a %v", where, match[1], typ)
			}
		}
		for _, match := range labelMatcherRE.FindAllStringSubmatch(expr, -1) {
			if !dashboardLabels[match[1]] {
				t.Errorf("%s: matcher on unknown label %q", where, match[1])
			}
		}
		for _, match := range labelClauseRE.FindAllStringSubmatch(expr, -1) {
			for _, l := range strings.Split(match[1], ",") {
				if l = strings.TrimSpace(l); !dashboardLabels[l] {
					t.Errorf("%s: grouping on unknown label %q", where, l)
				}
			}
		}
	}
	for name := range families {
		if strings.HasPrefix(name, namespace+"_") && !used[name] {
			t.Errorf("dashboard shows nothing of %s", name)
		}
	}
}

func TestDashboardIsImportable(t *testing.T) {
	d := loadDashboard(t)
	vars := make(map[string]string)
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	for name, typ := range map[string]string{"DS_PROMETHEUS": "datasource", "pool": "query", "server": "query"} {
		if vars[name] != typ {
			t.Errorf("variable %s: type %q, want %q", name, vars[name], typ)
		}
	}
	ids := make(map[int]string)
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if prev, dup := ids[p.ID]; dup {
				t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
			}
			ids[p.ID] = p.Title
			if p.GridPos == nil || p.GridPos.W <= 0 || p.GridPos.W > 24 {
				t.Errorf("panel %q: missing or bad gridPos", p.Title)
			}
			if p.Type != "row" {
				checkDatasource(t, "panel "+p.Title, p.Datasource)
				if len(p.Targets) == 0 {
					t.Errorf("panel %q has no query", p.Title)
				}
			}
			for _, tg := range p.Targets {
				checkDatasource(t, "panel "+p.Title+" "+tg.RefID, tg.Datasource)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
}

func checkDatasource(t *testing.T, where string, ds *datasourceRef) {
	t.Helper()
	if ds == nil || ds.Type != "prometheus" || ds.UID != "${DS_PROMETHEUS}" {
		t.Errorf("%s: datasource %+v, want the ${DS_PROMETHEUS} variable", where, ds)
	}
}
