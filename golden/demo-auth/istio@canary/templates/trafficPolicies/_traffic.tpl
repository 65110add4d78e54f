{{/*
Helpers of the trafficPolicies templates.
*/}}

{{/*
istio.trafficPolicies.weight: the route weight of a subset: its weight, 100 for the
lone subset of an entry that gives none, else 0.
Call: include "istio.trafficPolicies.weight" (dict "entry" $entry "subset" $subset) | int
*/}}
{{- define "istio.trafficPolicies.weight" -}}
{{- if hasKey .subset "weight" -}}
{{- .subset.weight | int -}}
{{- else if eq (len .entry.subsets) 1 -}}
100
{{- else -}}
0
{{- end -}}
{{- end -}}

{{/*
istio.trafficPolicies.check: fail on entries the schema cannot rule out: two entries
with one namespace/name, two subsets with one name, weights that do not add up to 100
and a mirror to an undeclared subset.
Call: include "istio.trafficPolicies.check" $
*/}}
{{- define "istio.trafficPolicies.check" -}}
{{- $seen := dict -}}
{{- range $i, $entry := .Values.trafficPolicies -}}
{{- $id := printf "%s/%s" ($entry.namespace | default $.Release.Namespace) $entry.name -}}
{{- if hasKey $seen $id -}}
{{- fail (printf "trafficPolicies[%d]: another entry is already named %s" $i $id) -}}
{{- end -}}
{{- $_ := set $seen $id true -}}
{{- $subsets := dict -}}
{{- $total := 0 -}}
{{- range $subset := $entry.subsets -}}
{{- if hasKey $subsets $subset.name -}}
{{- fail (printf "trafficPolicies[%d] (%s): two subsets are named %s" $i $entry.name $subset.name) -}}
{{- end -}}
{{- $_ := set $subsets $subset.name true -}}
{{- $total = add $total (include "istio.trafficPolicies.weight" (dict "entry" $entry "subset" $subset) | int) -}}
{{- end -}}
{{- if ne (int $total) 100 -}}
{{- fail (printf "trafficPolicies[%d] (%s): the subset weights add up to %d; they must add up to 100" $i $entry.name (int $total)) -}}
{{- end -}}
{{- with $entry.mirror -}}
{{- if not (hasKey $subsets .subset) -}}
{{- fail (printf "trafficPolicies[%d] (%s): mirror.subset %s is not one of its subsets" $i $entry.name .subset) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
