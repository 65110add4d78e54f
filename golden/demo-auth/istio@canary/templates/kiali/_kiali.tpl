{{/*
istio.kiali.secretName: the Secret holding Kiali's login: the chart's own demo Secret
(named through istio.resourceName) with createDemoSecret, else the user's Secret as named.
Call: include "istio.kiali.secretName" $
*/}}
{{- define "istio.kiali.secretName" -}}
{{- if .Values.kiali.createDemoSecret -}}
{{- include "istio.resourceName" (dict "name" .Values.kiali.dashboard.secretName "root" .) -}}
{{- else -}}
{{- .Values.kiali.dashboard.secretName -}}
{{- end -}}
{{- end -}}
