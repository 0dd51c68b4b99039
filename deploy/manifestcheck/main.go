// Command manifestcheck checks the Kubernetes manifests that `helm template`
// renders from deploy/helm/orderflow, without a cluster and without a network.
//
// Two kinds of check:
//
//   - Schema: each object of a built-in kind is decoded strictly into the
//     Kubernetes API's own Go types (k8s.io/api), the same types the API
//     server decodes into, so an unknown or misspelt field, a duplicate field
//     or a value of the wrong type is an error. Kinds the scheme does not
//     know (ServiceMonitor) are listed as not schema-checked.
//   - References: the links between objects that only a live cluster would
//     otherwise reveal: Deployment selectors match their pod labels; Services,
//     PodDisruptionBudgets and ServiceMonitors select some rendered pods or
//     Services; named ports used by probes, Services, Ingresses and
//     ServiceMonitors exist; ConfigMaps read through envFrom are rendered; and
//     every container runs non-root with a read-only root filesystem and no
//     capabilities.
//
// Usage: manifestcheck FILE... ; exit status 1 when any check fails.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: manifestcheck FILE...")
		os.Exit(2)
	}
	var problems []string
	for _, path := range os.Args[1:] {
		p, err := checkFile(path, os.Stdout)
		if err != nil {
			fmt.Fprintf(os.Stderr, "manifestcheck: %s: %v\n", path, err)
			os.Exit(2)
		}
		problems = append(problems, p...)
	}
	for _, p := range problems {
		fmt.Println("ERROR", p)
	}
	if len(problems) > 0 {
		fmt.Printf("%d problem(s)\n", len(problems))
		os.Exit(1)
	}
}

// manifests is one rendered file, decoded.
type manifests struct {
	deployments []*appsv1.Deployment
	jobs        []*batchv1.Job
	services    []*corev1.Service
	configMaps  []*corev1.ConfigMap
	pdbs        []*policyv1.PodDisruptionBudget
	ingresses   []*networkingv1.Ingress
	// monitors are ServiceMonitors, kept as plain maps: their CRD is not in k8s.io/api.
	monitors []map[string]any
}

// checkFile decodes and checks every document of one file, printing a line per
// object to out, and returns the problems found.
func checkFile(path string, out io.Writer) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifests: %w", err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return nil, fmt.Errorf("build scheme: %w", err)
		}
	}
	strict := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})

	var (
		m        manifests
		problems []string
		objects  int
	)
	docs := kyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := docs.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("split YAML documents: %w", err)
		}
		var head struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			problems = append(problems, fmt.Sprintf("%s: not YAML: %v", path, err))
			continue
		}
		if head.Kind == "" {
			continue // an empty document (comments only)
		}
		objects++
		id := head.Kind + "/" + head.Metadata.Name
		gvk := schema.FromAPIVersionAndKind(head.APIVersion, head.Kind)
		if !scheme.Recognizes(gvk) {
			if gvk.Group == "monitoring.coreos.com" && gvk.Kind == "ServiceMonitor" {
				var sm map[string]any
				if err := yaml.Unmarshal(doc, &sm); err != nil {
					problems = append(problems, fmt.Sprintf("%s: %v", id, err))
					continue
				}
				m.monitors = append(m.monitors, sm)
			}
			fmt.Fprintf(out, "not schema-checked  %s (%s: no schema here)\n", id, head.APIVersion)
			continue
		}
		obj, _, err := strict.Decode(doc, nil, nil)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", id, err))
			fmt.Fprintf(out, "schema FAILED       %s (%s)\n", id, head.APIVersion)
			// A strict error (unknown or duplicate field) still yields the
			// object, so its references can be checked too.
			if obj == nil || !runtime.IsStrictDecodingError(err) {
				continue
			}
		} else {
			fmt.Fprintf(out, "schema ok           %s (%s)\n", id, head.APIVersion)
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			m.deployments = append(m.deployments, o)
		case *batchv1.Job:
			m.jobs = append(m.jobs, o)
		case *corev1.Service:
			m.services = append(m.services, o)
		case *corev1.ConfigMap:
			m.configMaps = append(m.configMaps, o)
		case *policyv1.PodDisruptionBudget:
			m.pdbs = append(m.pdbs, o)
		case *networkingv1.Ingress:
			m.ingresses = append(m.ingresses, o)
		}
	}
	if objects == 0 {
		problems = append(problems, fmt.Sprintf("%s: no Kubernetes objects (did the render fail?)", path))
	}
	return append(problems, m.references()...), nil
}

// references checks the links between the objects of one file.
func (m manifests) references() []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	configMaps := map[string]bool{}
	for _, cm := range m.configMaps {
		configMaps[cm.Name] = true
	}
	type podOf struct {
		owner string
		tmpl  corev1.PodTemplateSpec
	}
	var pods []podOf
	for _, d := range m.deployments {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			bad("Deployment/%s: selector does not match its pod template labels", d.Name)
		}
		pods = append(pods, podOf{"Deployment/" + d.Name, d.Spec.Template})
	}
	for _, j := range m.jobs {
		pods = append(pods, podOf{"Job/" + j.Name, j.Spec.Template})
		// A pre-install hook runs before the chart's own objects exist, so
		// it must not read a ConfigMap the chart renders.
		if hook := j.Annotations["helm.sh/hook"]; strings.Contains(hook, "pre-install") {
			for _, c := range j.Spec.Template.Spec.Containers {
				for _, from := range c.EnvFrom {
					if ref := from.ConfigMapRef; ref != nil && configMaps[ref.Name] {
						bad("Job/%s: pre-install hook reads ConfigMap %q, which does not exist yet when hooks run", j.Name, ref.Name)
					}
				}
			}
		}
	}
	for _, p := range pods {
		for _, msg := range checkPod(p.tmpl.Spec, configMaps) {
			bad("%s: %s", p.owner, msg)
		}
	}

	// podPorts returns the named container ports of the Deployment pods a selector picks.
	podPorts := func(selector map[string]string) (matched bool, ports map[string]bool) {
		ports = map[string]bool{}
		sel := labels.SelectorFromSet(selector)
		for _, d := range m.deployments {
			if len(selector) == 0 || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				continue
			}
			matched = true
			for _, c := range d.Spec.Template.Spec.Containers {
				for _, p := range c.Ports {
					ports[p.Name] = true
				}
			}
		}
		return matched, ports
	}
	servicePorts := map[string]map[string]bool{}
	for _, s := range m.services {
		matched, ports := podPorts(s.Spec.Selector)
		if !matched {
			bad("Service/%s: selector %v matches no rendered Deployment", s.Name, s.Spec.Selector)
		}
		servicePorts[s.Name] = map[string]bool{}
		for _, p := range s.Spec.Ports {
			servicePorts[s.Name][p.Name] = true
			if p.TargetPort.StrVal != "" && !ports[p.TargetPort.StrVal] {
				bad("Service/%s: targetPort %q is no container port of the pods it selects", s.Name, p.TargetPort.StrVal)
			}
		}
	}
	for _, pdb := range m.pdbs {
		if pdb.Spec.Selector == nil {
			bad("PodDisruptionBudget/%s: no selector", pdb.Name)
			continue
		}
		if matched, _ := podPorts(pdb.Spec.Selector.MatchLabels); !matched {
			bad("PodDisruptionBudget/%s: selector matches no rendered Deployment", pdb.Name)
		}
	}
	for _, ing := range m.ingresses {
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, path := range rule.HTTP.Paths {
				svc := path.Backend.Service
				if svc == nil {
					continue
				}
				ports, ok := servicePorts[svc.Name]
				switch {
				case !ok:
					bad("Ingress/%s: backend Service %q is not rendered", ing.Name, svc.Name)
				case svc.Port.Name != "" && !ports[svc.Port.Name]:
					bad("Ingress/%s: Service %q has no port named %q", ing.Name, svc.Name, svc.Port.Name)
				}
			}
		}
	}
	for _, sm := range m.monitors {
		name := str(sm, "metadata", "name")
		selector := map[string]string{}
		if ml, ok := dig(sm, "spec", "selector", "matchLabels").(map[string]any); ok {
			for k, v := range ml {
				selector[k] = fmt.Sprint(v)
			}
		}
		sel := labels.SelectorFromSet(selector)
		var picked []*corev1.Service
		for _, s := range m.services {
			if len(selector) > 0 && sel.Matches(labels.Set(s.Labels)) {
				picked = append(picked, s)
			}
		}
		if len(picked) == 0 {
			bad("ServiceMonitor/%s: selector %v matches no rendered Service", name, selector)
			continue
		}
		endpoints, _ := dig(sm, "spec", "endpoints").([]any)
		for _, e := range endpoints {
			port := str(e, "port")
			for _, s := range picked {
				if !servicePorts[s.Name][port] {
					bad("ServiceMonitor/%s: Service %s has no port named %q", name, s.Name, port)
				}
			}
		}
	}
	return problems
}

// checkPod checks one pod template: hardening, probe ports, ConfigMap references.
func checkPod(spec corev1.PodSpec, configMaps map[string]bool) []string {
	var problems []string
	podNonRoot := spec.SecurityContext != nil && spec.SecurityContext.RunAsNonRoot != nil && *spec.SecurityContext.RunAsNonRoot
	for _, c := range spec.Containers {
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("container %s: ", c.Name)+fmt.Sprintf(format, args...))
		}
		sc := c.SecurityContext
		switch {
		case sc == nil:
			bad("no securityContext")
		default:
			if !podNonRoot && (sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot) {
				bad("runAsNonRoot is not set on the pod or the container")
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				bad("readOnlyRootFilesystem is not true")
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				bad("allowPrivilegeEscalation is not false")
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				bad("capabilities do not drop ALL")
			}
		}
		if c.Image == "" {
			bad("no image")
		}
		if _, ok := c.Resources.Requests[corev1.ResourceMemory]; !ok {
			bad("no memory request")
		}
		ports := map[string]bool{}
		for _, p := range c.Ports {
			ports[p.Name] = true
		}
		for kind, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
			if probe == nil {
				continue
			}
			var name string
			switch {
			case probe.HTTPGet != nil:
				name = probe.HTTPGet.Port.StrVal
			case probe.TCPSocket != nil:
				name = probe.TCPSocket.Port.StrVal
			}
			if name != "" && !ports[name] {
				bad("%s probe uses port %q, which the container does not declare", kind, name)
			}
		}
		for _, from := range c.EnvFrom {
			if ref := from.ConfigMapRef; ref != nil && (ref.Optional == nil || !*ref.Optional) && !configMaps[ref.Name] {
				bad("envFrom ConfigMap %q is not rendered", ref.Name)
			}
		}
	}
	return problems
}

// dig walks nested maps by key.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// str is dig for a string value; "" when absent.
func str(v any, keys ...string) string {
	s, _ := dig(v, keys...).(string)
	return s
}
