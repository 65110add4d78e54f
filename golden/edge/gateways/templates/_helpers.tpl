{{/*
Helpers shared by every template of the istio chart. Object names, labels, images and
resources all go through them, so that a naming scheme (e.g. canary revisions) can be
changed here alone. Values are only ever printed as data (quote / toYaml); no helper
evaluates a value as a template.
*/}}

{{/*
istio.chart: the helm.sh/chart label value, "<name>-<version>".
Call: include "istio.chart" $
*/}}
{{- define "istio.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
istio.resourceName: the metadata.name of an object, from its Istio 1.1 base name. A
canary control plane (.Values.revision set) suffixes every name with "-<revision>", so
that none of its objects, namespaced or cluster-scoped, collides with the stable one.
Call: include "istio.resourceName" (dict "name" "istio-pilot" "root" $)
*/}}
{{- define "istio.resourceName" -}}
{{- $revision := .root.Values.revision -}}
{{- $name := ternary (printf "%s-%s" .name $revision) .name (ne $revision "") -}}
{{- $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
istio.singletonOwner: "true" when this control plane owns the mesh-wide singletons
(MeshPolicy default, ClusterRbacConfig default, the validating webhook for Istio config).
Call: if include "istio.singletonOwner" $
*/}}
{{- define "istio.singletonOwner" -}}
{{- if .Values.singletonOwner -}}true{{- end -}}
{{- end -}}

{{/*
istio.selectorLabels: the labels selectors match on: app, istio when given, and
istio.io/rev for a canary revision.
Call: include "istio.selectorLabels" (dict "app" "pilot" "istio" "pilot" "root" $)
*/}}
{{- define "istio.selectorLabels" -}}
app: {{ .app | quote }}
{{- with .istio }}
istio: {{ . | quote }}
{{- end }}
{{- with .root.Values.revision }}
istio.io/rev: {{ . | quote }}
{{- end }}
{{- end -}}

{{/*
istio.labels: the labels of every object: the selector labels plus release,
heritage and the app.kubernetes.io / helm.sh labels.
Call: include "istio.labels" (dict "app" "pilot" "istio" "pilot" "root" $)
*/}}
{{- define "istio.labels" -}}
{{ include "istio.selectorLabels" . }}
{{- if not .root.Values.revision }}
istio.io/rev: default
{{- end }}
release: {{ .root.Release.Name | quote }}
heritage: {{ .root.Release.Service | quote }}
app.kubernetes.io/name: {{ .app | quote }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service | quote }}
app.kubernetes.io/part-of: istio
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ include "istio.chart" .root | quote }}
{{- end -}}

{{/*
istio.image: "<global.hub>/<image>:<global.tag>", or the image unchanged when it
already holds a "/" (a full reference). Unquoted: pipe it to quote.
Call: include "istio.image" (dict "image" .Values.pilot.image "root" $)
*/}}
{{- define "istio.image" -}}
{{- if contains "/" .image -}}
{{- .image -}}
{{- else -}}
{{- printf "%s/%s:%s" .root.Values.global.hub .image (toString .root.Values.global.tag) -}}
{{- end -}}
{{- end -}}

{{/*
istio.resources: the body of a container's resources block: the component's
resources, or global.defaultResources when the component sets none.
Call: resources: {{- include "istio.resources" (dict "resources" .Values.pilot.resources "root" $) | nindent 12 }}
*/}}
{{- define "istio.resources" -}}
{{- if .resources -}}
{{- toYaml .resources -}}
{{- else -}}
{{- toYaml .root.Values.global.defaultResources -}}
{{- end -}}
{{- end -}}

{{/*
istio.nodeSelector: the body of a pod's nodeSelector: the component's, or
global.defaultNodeSelector; empty when both are empty.
Call: {{- with include "istio.nodeSelector" (dict "nodeSelector" .Values.pilot.nodeSelector "root" $) }}
*/}}
{{- define "istio.nodeSelector" -}}
{{- if .nodeSelector -}}
{{- toYaml .nodeSelector -}}
{{- else if .root.Values.global.defaultNodeSelector -}}
{{- toYaml .root.Values.global.defaultNodeSelector -}}
{{- end -}}
{{- end -}}

{{/*
istio.podSecurityContext: the pod securityContext of a control-plane pod: non-root
UID 1337 and the runtime's default seccomp profile.
Call: securityContext: {{- include "istio.podSecurityContext" $ | nindent 8 }}
*/}}
{{- define "istio.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1337
runAsGroup: 1337
fsGroup: 1337
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
istio.containerSecurityContext: the securityContext of a control-plane container:
no privilege escalation, no capabilities, read-only root filesystem.
Call: securityContext: {{- include "istio.containerSecurityContext" $ | nindent 12 }}
*/}}
{{- define "istio.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1337
runAsGroup: 1337
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
  - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
istio.env: the user-set environment variables of a container, sorted by name,
skipping any name the template already sets.
Renders a YAML list, or nothing when there is no variable to add.
Call: {{- with include "istio.env" (dict "env" .Values.pilot.env "reserved" (list "POD_NAME") "root" $) }}
*/}}
{{- define "istio.env" -}}
{{- $reserved := .reserved | default list -}}
{{- $vars := list -}}
{{- range $name, $value := .env -}}
{{- if not (has $name $reserved) -}}
{{- $vars = append $vars (dict "name" $name "value" (toString $value)) -}}
{{- end -}}
{{- end -}}
{{- with $vars -}}
{{- toYaml . -}}
{{- end -}}
{{- end -}}

{{/*
istio.meshConfigName: the name of the mesh ConfigMap (Istio: "istio").
Call: include "istio.meshConfigName" $
*/}}
{{- define "istio.meshConfigName" -}}
{{- include "istio.resourceName" (dict "name" "istio" "root" .) -}}
{{- end -}}

{{/*
istio.pilotAddress: host:port proxies use for xDS: istio-pilot.<ns>:15010, or
:15011 (mutual TLS) with global.controlPlaneSecurityEnabled. In a remote cluster
(global.istioRemote) the primary's Pilot: global.remotePilotAddress, or the local
selector-less Service istio-pilot with global.remotePilotCreateSvcEndpoint.
Call: include "istio.pilotAddress" $
*/}}
{{- define "istio.pilotAddress" -}}
{{- $g := .Values.global -}}
{{- $port := ternary "15011" "15010" $g.controlPlaneSecurityEnabled -}}
{{- if and $g.istioRemote $g.remotePilotAddress -}}
{{- include "istio.remote.serviceAddress" (dict "name" "istio-pilot" "address" $g.remotePilotAddress "port" $port "fqdn" false "root" .) -}}
{{- else -}}
{{- $service := include "istio.resourceName" (dict "name" "istio-pilot" "root" .) -}}
{{- printf "%s.%s:%s" $service .Release.Namespace $port -}}
{{- end -}}
{{- end -}}

{{/*
istio.zipkinAddress: host:port of the Zipkin collector: global.tracer.zipkin.address;
else, in a remote cluster, global.remoteZipkinAddress:9411; else zipkin.<ns>:9411.
Call: include "istio.zipkinAddress" $
*/}}
{{- define "istio.zipkinAddress" -}}
{{- $g := .Values.global -}}
{{- if $g.tracer.zipkin.address -}}
{{- $g.tracer.zipkin.address -}}
{{- else if and $g.istioRemote $g.remoteZipkinAddress -}}
{{- include "istio.hostPort" (dict "host" $g.remoteZipkinAddress "port" 9411) -}}
{{- else -}}
{{- $service := include "istio.resourceName" (dict "name" "zipkin" "root" .) -}}
{{- printf "%s.%s:9411" $service .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/*
istio.statsdAddress: "host:port" of the statsd collector with global.proxy.envoyStatsd.enabled,
else "". Fails when it is enabled without a host.
Call: include "istio.statsdAddress" $
*/}}
{{- define "istio.statsdAddress" -}}
{{- $statsd := .Values.global.proxy.envoyStatsd -}}
{{- if $statsd.enabled -}}
{{- $host := required "global.proxy.envoyStatsd.enabled needs global.proxy.envoyStatsd.host" $statsd.host -}}
{{- include "istio.hostPort" (dict "host" $host "port" $statsd.port) -}}
{{- end -}}
{{- end -}}

{{/*
istio.metricsServiceAddress: "host:port" of the Envoy Metrics Service with
global.proxy.envoyMetricsService.enabled, else "". Fails when it is enabled without a host.
Call: include "istio.metricsServiceAddress" $
*/}}
{{- define "istio.metricsServiceAddress" -}}
{{- $service := .Values.global.proxy.envoyMetricsService -}}
{{- if $service.enabled -}}
{{- $host := required "global.proxy.envoyMetricsService.enabled needs global.proxy.envoyMetricsService.host" $service.host -}}
{{- include "istio.hostPort" (dict "host" $host "port" $service.port) -}}
{{- end -}}
{{- end -}}

{{/*
istio.tracer: the tracer the proxies use: "zipkin" or "lightstep" (global.proxy.tracer) with
global.enableTracing, else "". Fails on lightstep without global.tracer.lightstep.address.
Call: include "istio.tracer" $
*/}}
{{- define "istio.tracer" -}}
{{- $g := .Values.global -}}
{{- if $g.enableTracing -}}
{{- if eq $g.proxy.tracer "lightstep" -}}
{{- $_ := required "global.proxy.tracer lightstep needs global.tracer.lightstep.address" $g.tracer.lightstep.address -}}
{{- end -}}
{{- $g.proxy.tracer -}}
{{- end -}}
{{- end -}}

{{/*
istio.proxyTelemetryArgs: the pilot-agent arguments of a proxy started without injection (the
gateways): the tracer (the LightStep access token comes from the environment variable
LIGHTSTEP_ACCESS_TOKEN, see istio.proxyTelemetryEnv), the statsd and Metrics Service sinks. A
YAML list, or "" when there is none.
Call: with include "istio.proxyTelemetryArgs" $ }}{{ . | nindent 12 }}{{ end
*/}}
{{- define "istio.proxyTelemetryArgs" -}}
{{- $g := .Values.global -}}
{{- $tracer := include "istio.tracer" . -}}
{{- if eq $tracer "zipkin" }}
- --zipkinAddress
- {{ include "istio.zipkinAddress" . | quote }}
{{- else if eq $tracer "lightstep" }}
- --lightstepAddress
- {{ $g.tracer.lightstep.address | quote }}
- --lightstepAccessToken
- "$(LIGHTSTEP_ACCESS_TOKEN)"
- {{ printf "--lightstepSecure=%t" $g.tracer.lightstep.secure | quote }}
- --lightstepCacertPath
- {{ $g.tracer.lightstep.cacertPath | quote }}
{{- end }}
{{- with include "istio.statsdAddress" . }}
- --statsdUdpAddress
- {{ . | quote }}
{{- end }}
{{- with include "istio.metricsServiceAddress" . }}
- --envoyMetricsServiceAddress
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/*
istio.proxyTelemetryEnv: with the LightStep tracer, the environment variable
LIGHTSTEP_ACCESS_TOKEN from the Secret lightstep.token (key accessToken) of the pod's
namespace: the token stays out of values, ConfigMaps and pod specs. A YAML list or "".
Call: with include "istio.proxyTelemetryEnv" $ }}{{ . | nindent 12 }}{{ end
*/}}
{{- define "istio.proxyTelemetryEnv" -}}
{{- if eq (include "istio.tracer" .) "lightstep" }}
- name: LIGHTSTEP_ACCESS_TOKEN
  valueFrom:
    secretKeyRef:
      name: lightstep.token
      key: accessToken
      optional: true
{{- end }}
{{- end -}}

{{/*
istio.lightstepCerts: "true" when the proxies mount the LightStep CA certificate (LightStep
tracer with global.tracer.lightstep.cacertPath), else "".
Call: if include "istio.lightstepCerts" $
*/}}
{{- define "istio.lightstepCerts" -}}
{{- if and (eq (include "istio.tracer" .) "lightstep") .Values.global.tracer.lightstep.cacertPath -}}true{{- end -}}
{{- end -}}

{{/*
istio.lightstepCertsMount / istio.lightstepCertsVolume: for a proxy started without injection
(the gateways), the volume mount (the folder of global.tracer.lightstep.cacertPath) and the
volume (the optional Secret lightstep.cacert of the release namespace) of the LightStep CA
certificate, as the injection template adds them; "" unless istio.lightstepCerts.
Call: with include "istio.lightstepCertsMount" $ }}{{ . | trim | nindent 12 }}{{ end
*/}}
{{- define "istio.lightstepCertsMount" -}}
{{- if include "istio.lightstepCerts" . }}
- name: lightstep-certs
  mountPath: {{ dir .Values.global.tracer.lightstep.cacertPath | quote }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "istio.lightstepCertsVolume" -}}
{{- if include "istio.lightstepCerts" . }}
- name: lightstep-certs
  secret:
    secretName: lightstep.cacert
    optional: true
{{- end }}
{{- end -}}

{{/*
istio.certSecretName: the Secret Citadel writes for a service account:
"istio.<service account name>".
Call: include "istio.certSecretName" (dict "serviceAccount" "istio-pilot-service-account" "root" $)
*/}}
{{- define "istio.certSecretName" -}}
{{- printf "istio.%s" (include "istio.resourceName" (dict "name" .serviceAccount "root" .root)) -}}
{{- end -}}

{{/*
istio.enabled: "true" when another component is compiled into this chart and enabled,
else "". A template must not read .Values.<other>.enabled directly: a component the
profile did not compile in has no values at all.
Call: if include "istio.enabled" (dict "component" "prometheus" "root" $)
*/}}
{{- define "istio.enabled" -}}
{{- $component := get .root.Values.AsMap .component -}}
{{- if and (kindIs "map" $component) (get $component "enabled") -}}true{{- end -}}
{{- end -}}

{{/*
istio.podDisruptionBudget: a PodDisruptionBudget (policy/v1, minAvailable 1) for the pods
of one Deployment, rendered only where a node drain can honour it: with
global.defaultPodDisruptionBudget.enabled, and when the Deployment keeps more than one
pod: replicas > 1, or, when autoscaling, autoscaleMin > 1. minAvailable 1 over a single
pod allows no eviction at all, so `kubectl drain` would wait forever (istio/istio#12602).
Renders nothing otherwise. labels and selector are the rendered label lines.
Call: include "istio.podDisruptionBudget" (dict "name" "istio-pilot" "labels" $labels "selector" $selector "replicas" .replicaCount "autoscale" .autoscaleEnabled "autoscaleMin" .autoscaleMin "root" $)
*/}}
{{- define "istio.podDisruptionBudget" -}}
{{- $pods := int .replicas -}}
{{- if .autoscale -}}
{{- $pods = int .autoscaleMin -}}
{{- end -}}
{{- if and .root.Values.global.defaultPodDisruptionBudget.enabled (gt $pods 1) -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "istio.resourceName" (dict "name" .name "root" .root) | quote }}
  namespace: {{ .root.Release.Namespace | quote }}
  labels:
    {{- .labels | nindent 4 }}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      {{- .selector | nindent 6 }}
{{- end -}}
{{- end -}}

{{- /*
A `helm test` Pod (global.enableHelmTest) that fetches an add-on's URL through its Service
with curl from the proxy image, non-root and bounded; deleted once it passes.
Call: include "istio.helmTestPod" (dict "name" <add-on> "url" <URL> "addon" <its values> "root" $)
*/}}
{{- define "istio.helmTestPod" -}}
{{- $root := .root }}
{{- $name := printf "%s-test" .name }}
{{- $g := $root.Values.global }}
{{- $addon := .addon }}
{{- $url := .url }}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "istio.resourceName" (dict "name" $name "root" $root) | quote }}
  namespace: {{ $root.Release.Namespace | quote }}
  labels:
    {{- include "istio.labels" (dict "app" $name "istio" "" "root" $root) | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
    sidecar.istio.io/inject: "false"
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  {{- with $g.imagePullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . | quote }}
    {{- end }}
  {{- end }}
  {{- with $g.priorityClassName }}
  priorityClassName: {{ . | quote }}
  {{- end }}
  securityContext:
    {{- include "istio.podSecurityContext" $root | nindent 4 }}
  containers:
    # The proxy image carries curl.
    - name: test
      image: {{ include "istio.image" (dict "image" $g.proxy.image "root" $root) | quote }}
      imagePullPolicy: {{ $g.imagePullPolicy | quote }}
      command:
        - curl
        - --fail
        - --silent
        - --show-error
        - --max-time
        - "10"
        - --output
        - /dev/null
        - {{ $url | quote }}
      resources:
        requests:
          cpu: 10m
          memory: 16Mi
        limits:
          cpu: 100m
          memory: 64Mi
      securityContext:
        {{- include "istio.containerSecurityContext" $root | nindent 8 }}
  {{- with include "istio.nodeSelector" (dict "nodeSelector" $addon.nodeSelector "root" $root) }}
  nodeSelector:
    {{- . | nindent 4 }}
  {{- end }}
  {{- with $addon.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
