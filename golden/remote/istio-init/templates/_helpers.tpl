{{/*
Labels every istio-init object carries. Istio's own CRD labels (app, istio, package)
are added per CRD next to these.
*/}}
{{- define "istio-init.labels" -}}
app.kubernetes.io/name: istio-init
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
app.kubernetes.io/part-of: istio
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" | quote }}
{{- end -}}
