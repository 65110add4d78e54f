{{/*
Helpers of the gateways component. The values under .Values.gateways are a map: "enabled",
"egress" (egress SNI routing, not a gateway) and one entry per gateway. Every template reads
the gateways through "istio.gateways.all", which checks them once and fills in the defaults
of user-named gateways, so that all templates agree.
*/}}

{{/*
istio.gateways.certDir: the folder where a gateway mounts its certificates by default:
/etc/istio/<gateway name without "istio-">-certs (or -ca-certs with "ca").
Call: include "istio.gateways.certDir" (dict "name" "istio-ingressgateway" "ca" false)
*/}}
{{- define "istio.gateways.certDir" -}}
{{- printf "/etc/istio/%s-%s" (trimPrefix "istio-" .name) (ternary "ca-certs" "certs" .ca) -}}
{{- end -}}

{{/*
istio.gateways.expansionLabel: the istio label of the gateways that carry mesh expansion:
"ingressgateway", or "ilbgateway" with global.meshExpansion.useILB.
Call: include "istio.gateways.expansionLabel" $
*/}}
{{- define "istio.gateways.expansionLabel" -}}
{{- if dig "meshExpansion" "useILB" false .Values.global -}}ilbgateway{{- else -}}ingressgateway{{- end -}}
{{- end -}}

{{/*
istio.gateways.requireIstio11: fail when a feature that only Istio 1.1 proxies and Pilot
understand (AUTO_PASSTHROUGH, sni-dnat, ingress gateway SDS) would run on a 1.0 tag: Galley
1.0 rejects such objects and Pilot 1.0 ignores them. Renders nothing.
Call: include "istio.gateways.requireIstio11" (dict "tag" $tag "feature" "global.multiCluster.enabled")
*/}}
{{- define "istio.gateways.requireIstio11" -}}
{{- if regexMatch "^v?1\\.0([.-]|$)" (toString .tag) -}}
{{- fail (printf "%s needs Istio 1.1 or later, but the tag is %s: set global.tag (or the gateway's tag) to 1.1.0 or later" .feature (toString .tag)) -}}
{{- end -}}
{{- end -}}

{{/*
istio.gateways.hostSlug: a DNS-1123 name part for an external host: "*" becomes
"wildcard", dots become dashes, and a hash of the host keeps truncated names apart.
Call: include "istio.gateways.hostSlug" "*.wikipedia.org"
*/}}
{{- define "istio.gateways.hostSlug" -}}
{{- $base := . | lower | replace "*" "wildcard" | replace "." "-" | trunc 40 | trimSuffix "-" -}}
{{- printf "%s-%s" $base (sha256sum . | trunc 8) -}}
{{- end -}}

{{/*
istio.gateways.tls: the tls block of a Gateway server, with the certificate paths of
SIMPLE and MUTUAL defaulting to the gateway's mounted certificates. Renders YAML.
Call: include "istio.gateways.tls" (dict "tls" $resource.tls "gateway" $name)
*/}}
{{- define "istio.gateways.tls" -}}
{{- $tls := deepCopy .tls -}}
{{- $mode := $tls.mode | default "" -}}
{{- /* With credentialName the certificates come over SDS, not from files. */ -}}
{{- if and (has $mode (list "SIMPLE" "MUTUAL")) (not $tls.credentialName) -}}
{{- $certs := include "istio.gateways.certDir" (dict "name" .gateway "ca" false) -}}
{{- $_ := set $tls "serverCertificate" ($tls.serverCertificate | default (printf "%s/tls.crt" $certs)) -}}
{{- $_ := set $tls "privateKey" ($tls.privateKey | default (printf "%s/tls.key" $certs)) -}}
{{- if eq $mode "MUTUAL" -}}
{{- $ca := include "istio.gateways.certDir" (dict "name" .gateway "ca" true) -}}
{{- $_ := set $tls "caCertificates" ($tls.caCertificates | default (printf "%s/ca-chain.cert.pem" $ca)) -}}
{{- end -}}
{{- end -}}
{{- toYaml $tls -}}
{{- end -}}

{{/*
istio.gateways.all: every enabled gateway, name -> settings, as YAML (read it with
fromYaml). Settings: labels (app and istio always set), replicaCount, autoscaleEnabled,
autoscaleMin, autoscaleMax, targetCPU, resources, type, the Service fields, ports (the
Service ports: unique names and numbers, mesh-expansion ports added), expansionPorts (the
mesh-expansion ports this gateway listens on), containerPorts, lowPorts (a target port
below 1024), secretVolumes, env, nodeSelector, tolerations, podAnnotations,
gatewayResources (TLS defaults filled in) and sds (enabled, image, resources). Fails on
values no schema can check:
two gateways with the same app and istio labels, duplicate port names or numbers, duplicate volume or Gateway names, autoscaleMin above
autoscaleMax, a Gateway port the gateway does not listen on, tls.credentialName without
sds.enabled, SDS on a 1.0 tag.
Call: include "istio.gateways.all" $ | fromYaml
*/}}
{{- define "istio.gateways.all" -}}
{{- $root := . -}}
{{- $expansion := and (dig "meshExpansion" "enabled" false $root.Values.global) true -}}
{{- $expansionLabel := include "istio.gateways.expansionLabel" $root -}}
{{- $result := dict -}}
{{- $selectors := dict -}}
{{- $gatewayNames := dict "meshexpansion-gateway" "global.meshExpansion" "meshexpansion-ilb-gateway" "global.meshExpansion" "istio-egressgateway-sni" "gateways.egress.sniHosts" "istio-multicluster-ingressgateway" "global.multiCluster" "istio-multicluster-egressgateway" "global.multiCluster" -}}
{{- range $name, $spec := $root.Values.gateways -}}
{{- if and (ne $name "enabled") (ne $name "egress") (kindIs "map" $spec) -}}
{{- if $spec.enabled -}}
{{- $where := printf "gateways.%s" $name -}}
{{- $labels := dict "app" $name "istio" $name -}}
{{- range $key, $value := ($spec.labels | default dict) -}}
{{- $_ := set $labels $key (toString $value) -}}
{{- end -}}
{{- $selector := printf "app=%s, istio=%s" (get $labels "app") (get $labels "istio") -}}
{{- if hasKey $selectors $selector -}}
{{- fail (printf "%s and gateways.%s both select pods labelled %s: give each gateway its own labels" $where (get $selectors $selector) $selector) -}}
{{- end -}}
{{- $_ := set $selectors $selector $name -}}
{{- $type := $spec.type | default "ClusterIP" -}}
{{- $autoscaleMin := dig "autoscaleMin" 1 $spec -}}
{{- $autoscaleMax := dig "autoscaleMax" 5 $spec -}}
{{- $autoscale := dig "autoscaleEnabled" true $spec -}}
{{- if and $autoscale (gt (int $autoscaleMin) (int $autoscaleMax)) -}}
{{- fail (printf "%s.autoscaleMin (%v) must not exceed %s.autoscaleMax (%v)" $where $autoscaleMin $where $autoscaleMax) -}}
{{- end -}}
{{- /* Service ports: the gateway's own, then the mesh-expansion ones it does not have yet. */ -}}
{{- $candidates := list -}}
{{- range $port := ($spec.ports | default list) -}}
{{- $candidates = append $candidates (dict "port" $port "source" "ports" "expansion" false) -}}
{{- end -}}
{{- $expansionPorts := list -}}
{{- if and $expansion (eq (get $labels "istio") $expansionLabel) -}}
{{- range $port := ($spec.meshExpansionPorts | default list) -}}
{{- $candidates = append $candidates (dict "port" $port "source" "meshExpansionPorts" "expansion" true) -}}
{{- $expansionPorts = append $expansionPorts (dict "name" $port.name "number" ($port.targetPort | default $port.port)) -}}
{{- end -}}
{{- end -}}
{{- $ports := list -}}
{{- $names := dict -}}
{{- $numbers := dict -}}
{{- $containerPorts := list -}}
{{- $targets := dict -}}
{{- $lowPorts := false -}}
{{- range $candidate := $candidates -}}
{{- $port := $candidate.port -}}
{{- $protocol := $port.protocol | default "TCP" -}}
{{- $key := printf "%v/%s" $port.port $protocol -}}
{{- if not (and $candidate.expansion (hasKey $numbers $key)) -}}
{{- if hasKey $names $port.name -}}
{{- fail (printf "%s.%s: port name %q is already used by port %s of the gateway (Service port names must be unique)" $where $candidate.source $port.name (get $names $port.name)) -}}
{{- end -}}
{{- if hasKey $numbers $key -}}
{{- fail (printf "%s.%s: port %s is listed twice (Service ports must be unique)" $where $candidate.source $key) -}}
{{- end -}}
{{- $_ := set $names $port.name $key -}}
{{- $_ := set $numbers $key $port.name -}}
{{- $target := $port.targetPort | default $port.port -}}
{{- $entry := dict "name" $port.name "port" $port.port "targetPort" $target "protocol" $protocol -}}
{{- if and $port.nodePort (ne $type "ClusterIP") -}}
{{- $_ := set $entry "nodePort" $port.nodePort -}}
{{- end -}}
{{- $ports = append $ports $entry -}}
{{- $targetKey := printf "%v/%s" $target $protocol -}}
{{- if not (hasKey $targets $targetKey) -}}
{{- $_ := set $targets $targetKey true -}}
{{- $containerPorts = append $containerPorts (dict "containerPort" $target "protocol" $protocol) -}}
{{- if lt (int $target) 1024 -}}
{{- $lowPorts = true -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- /* Envoy's Prometheus endpoint. */ -}}
{{- if not (hasKey $targets "15090/TCP") -}}
{{- $containerPorts = append $containerPorts (dict "containerPort" 15090 "protocol" "TCP" "name" "http-envoy-prom") -}}
{{- end -}}
{{- /* Secret volumes must not clash with each other or with the template's own. */ -}}
{{- $volumes := dict "istio-certs" true "istio-envoy" true "ingressgatewaysdsudspath" true -}}
{{- range $volume := ($spec.secretVolumes | default list) -}}
{{- if hasKey $volumes $volume.name -}}
{{- fail (printf "%s.secretVolumes: volume name %q is used twice or reserved (istio-certs, istio-envoy, ingressgatewaysdsudspath)" $where $volume.name) -}}
{{- end -}}
{{- $_ := set $volumes $volume.name true -}}
{{- end -}}
{{- /* The SDS sidecar: defaults for gateways without an sds block (as SDS_DEFAULTS in Python). */ -}}
{{- $sdsSpec := $spec.sds | default dict -}}
{{- $sdsResources := dict "requests" (dict "cpu" "10m" "memory" "32Mi") "limits" (dict "cpu" "500m" "memory" "128Mi") -}}
{{- $sds := dict "enabled" (dig "enabled" false $sdsSpec) "image" ($sdsSpec.image | default "node-agent-k8s") "resources" ($sdsSpec.resources | default $sdsResources) -}}
{{- if $sds.enabled -}}
{{- /* Both the gateway's proxy and Pilot (global.tag) must be 1.1. */ -}}
{{- include "istio.gateways.requireIstio11" (dict "tag" $root.Values.global.tag "feature" (printf "%s.sds.enabled" $where)) -}}
{{- include "istio.gateways.requireIstio11" (dict "tag" ($spec.tag | default $root.Values.global.tag) "feature" (printf "%s.sds.enabled" $where)) -}}
{{- end -}}
{{- /* Gateway objects: unique names, ports the gateway listens on, TLS defaults. */ -}}
{{- $resources := list -}}
{{- range $resource := ($spec.gatewayResources | default list) -}}
{{- if hasKey $gatewayNames $resource.name -}}
{{- fail (printf "%s.gatewayResources: Gateway name %q is already used by %s" $where $resource.name (get $gatewayNames $resource.name)) -}}
{{- end -}}
{{- $_ := set $gatewayNames $resource.name (printf "%s.gatewayResources" $where) -}}
{{- $listening := false -}}
{{- range $entry := $ports -}}
{{- if eq (toString $entry.targetPort) (toString $resource.port.number) -}}
{{- $listening = true -}}
{{- end -}}
{{- end -}}
{{- if not $listening -}}
{{- fail (printf "%s.gatewayResources: Gateway %q uses port %v, which is not a target port of %s" $where $resource.name $resource.port.number $where) -}}
{{- end -}}
{{- if and (dig "tls" "credentialName" "" $resource) (not $sds.enabled) -}}
{{- fail (printf "%s.gatewayResources: Gateway %q uses tls.credentialName, which needs %s.sds.enabled" $where $resource.name $where) -}}
{{- end -}}
{{- $server := dict "hosts" $resource.hosts "port" $resource.port -}}
{{- with $resource.tls -}}
{{- $_ := set $server "tls" (include "istio.gateways.tls" (dict "tls" . "gateway" $name) | fromYaml) -}}
{{- end -}}
{{- $resources = append $resources (dict "name" $resource.name "server" $server) -}}
{{- end -}}
{{- $gateway := dict "labels" $labels "type" $type -}}
{{- $_ := set $gateway "replicaCount" (dig "replicaCount" 1 $spec) -}}
{{- $_ := set $gateway "autoscaleEnabled" $autoscale -}}
{{- $_ := set $gateway "autoscaleMin" $autoscaleMin -}}
{{- $_ := set $gateway "autoscaleMax" $autoscaleMax -}}
{{- $_ := set $gateway "targetCPU" (dig "cpu" "targetAverageUtilization" 80 $spec) -}}
{{- $_ := set $gateway "resources" ($spec.resources | default $root.Values.global.proxy.resources) -}}
{{- $_ := set $gateway "tag" ($spec.tag | default "") -}}
{{- $_ := set $gateway "loadBalancerIP" ($spec.loadBalancerIP | default "") -}}
{{- $_ := set $gateway "loadBalancerSourceRanges" ($spec.loadBalancerSourceRanges | default list) -}}
{{- $_ := set $gateway "externalIPs" ($spec.externalIPs | default list) -}}
{{- $_ := set $gateway "externalTrafficPolicy" ($spec.externalTrafficPolicy | default "") -}}
{{- $_ := set $gateway "serviceAnnotations" ($spec.serviceAnnotations | default dict) -}}
{{- $_ := set $gateway "podAnnotations" ($spec.podAnnotations | default dict) -}}
{{- $_ := set $gateway "ports" $ports -}}
{{- $_ := set $gateway "expansionPorts" $expansionPorts -}}
{{- $_ := set $gateway "containerPorts" $containerPorts -}}
{{- $_ := set $gateway "lowPorts" $lowPorts -}}
{{- $_ := set $gateway "secretVolumes" ($spec.secretVolumes | default list) -}}
{{- $_ := set $gateway "env" ($spec.env | default dict) -}}
{{- $_ := set $gateway "nodeSelector" ($spec.nodeSelector | default dict) -}}
{{- $_ := set $gateway "tolerations" ($spec.tolerations | default list) -}}
{{- $_ := set $gateway "gatewayResources" $resources -}}
{{- $_ := set $gateway "sds" $sds -}}
{{- $_ := set $result $name $gateway -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $result -}}
{{- end -}}

{{/*
istio.gateways.selectorLabels / istio.gateways.labels: istio.selectorLabels and
istio.labels of a gateway, from its settings (see istio.gateways.all).
Call: include "istio.gateways.labels" (dict "gateway" $gw "root" $)
*/}}
{{- define "istio.gateways.selectorLabels" -}}
{{- include "istio.selectorLabels" (dict "app" .gateway.labels.app "istio" .gateway.labels.istio "root" .root) -}}
{{- end -}}

{{- define "istio.gateways.labels" -}}
{{- include "istio.labels" (dict "app" .gateway.labels.app "istio" .gateway.labels.istio "root" .root) -}}
{{- end -}}
