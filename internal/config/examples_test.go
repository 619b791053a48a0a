package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// examples is the directory of example configurations shipped with the
// project.
var examples = filepath.Join("..", "..", "configs")

func TestExampleNative(t *testing.T) {
	cfg, err := Load(filepath.Join(examples, "hashproxy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The file says every key shows its default: hold it to that.
	want := DefaultPool()
	want.Name = "main"
	for _, port := range []int{11311, 11312, 11313} {
		want.Servers = append(want.Servers, Server{
			Addr: "127.0.0.1:" + strconv.Itoa(port), Host: "127.0.0.1", Port: port, Weight: 1,
		})
	}
	if len(cfg.Pools) != 1 || !reflect.DeepEqual(cfg.Pools[0], want) {
		t.Errorf("pools:\n got %+v\nwant %+v", cfg.Pools, want)
	}
	if cfg.Admin != Default().Admin || cfg.Log != Default().Log {
		t.Errorf("admin %+v log %+v, want the defaults", cfg.Admin, cfg.Log)
	}
}

func TestExampleTwemproxy(t *testing.T) {
	cfg, err := Load(filepath.Join(examples, "nutcracker.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range cfg.Pools {
		names = append(names, p.Name+"="+p.Listen+"/"+p.Hash+"/"+p.Distribution+"/"+strconv.Itoa(len(p.Servers)))
	}
	want := []string{
		"alpha=127.0.0.1:22122/fnv1a_64/ketama/3",
		"beta=127.0.0.1:22124/md5/ketama/2",
		"gamma=127.0.0.1:22125/crc32a/modula/1",
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("got %v, want %v", names, want)
	}
}

// k8sObject holds the parts of a Kubernetes manifest the test checks.
type k8sObject struct {
	Kind string            `yaml:"kind"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Template struct {
			Metadata struct {
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []struct {
					Name           string   `yaml:"name"`
					Args           []string `yaml:"args"`
					ReadinessProbe probe    `yaml:"readinessProbe"`
					LivenessProbe  probe    `yaml:"livenessProbe"`
					Ports          []struct {
						Name          string `yaml:"name"`
						ContainerPort int    `yaml:"containerPort"`
					} `yaml:"ports"`
					VolumeMounts []struct {
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

func TestExampleKubernetes(t *testing.T) {
	path := filepath.Join(examples, "kubernetes-sidecar.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]k8sObject{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; i < 10; i++ {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		objs[o.Kind] = o
	}
	body, ok := objs["ConfigMap"].Data["hashproxy.yaml"]
	if !ok {
		t.Fatalf("no ConfigMap with hashproxy.yaml in %s", path)
	}
	cfg, err := Parse(path+" (ConfigMap hashproxy.yaml)", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Pools) != 1 || cfg.Pools[0].Listen != DefaultListen {
		t.Errorf("the application expects one pool on %s: %+v", DefaultListen, cfg.Pools)
	}
	_, adminPort, _ := strings.Cut(cfg.Admin.Listen, ":")

	tmpl := objs["Deployment"].Spec.Template
	if a := tmpl.Metadata.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != adminPort || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("scrape annotations %v do not match admin listen %q", a, cfg.Admin.Listen)
	}
	var found bool
	for _, c := range tmpl.Spec.Containers {
		if c.Name != "hashproxy" {
			continue
		}
		found = true
		if len(c.Ports) != 1 || strconv.Itoa(c.Ports[0].ContainerPort) != adminPort {
			t.Errorf("container ports %+v, want the admin port %s", c.Ports, adminPort)
		}
		if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" ||
			c.ReadinessProbe.HTTPGet.Port != c.Ports[0].Name || c.LivenessProbe.HTTPGet.Port != c.Ports[0].Name {
			t.Errorf("probes: readiness %+v liveness %+v", c.ReadinessProbe, c.LivenessProbe)
		}
		if len(c.VolumeMounts) != 1 || len(c.Args) < 3 || c.Args[2] != c.VolumeMounts[0].MountPath+"/hashproxy.yaml" {
			t.Errorf("args %v do not name the mounted config %+v", c.Args, c.VolumeMounts)
		}
	}
	if !found || len(tmpl.Spec.Containers) != 2 {
		t.Errorf("want an application container and a hashproxy container, got %d", len(tmpl.Spec.Containers))
	}
}

// TestExampleDiscovery reads the discovery examples: the ConfigMap of the
// Kubernetes headless Service example and the ElastiCache file.
func TestExampleDiscovery(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(examples, "kubernetes-discovery.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var body string
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; i < 10 && body == ""; i++ {
		var o k8sObject
		if err := dec.Decode(&o); err != nil {
			t.Fatal(err)
		}
		body = o.Data["hashproxy.yaml"]
	}
	cfg, err := Parse("kubernetes-discovery.yaml (ConfigMap hashproxy.yaml)", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []Lookup{{Kind: LookupSRV, Host: "_memcache._tcp.memcached.default.svc.cluster.local", Weight: 1}}
	if len(cfg.Pools) != 1 || !reflect.DeepEqual(cfg.Pools[0].Lookups, want) || len(cfg.Pools[0].Servers) != 0 {
		t.Errorf("pools %+v, want one pool with %+v", cfg.Pools, want)
	}

	cfg, err = Load(filepath.Join(examples, "elasticache.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Pools[0].Lookups; len(l) != 1 || l[0].Kind != LookupElastiCache || l[0].Port != 11211 {
		t.Errorf("lookups %+v, want the configuration endpoint", l)
	}
}
