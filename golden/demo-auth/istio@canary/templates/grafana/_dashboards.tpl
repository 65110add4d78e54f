{{/*
istio.grafana.dashboards: the names of the built-in Istio dashboards (meshcharts.catalog.
dashboards), one a line, without those a dashboard of grafana.dashboards replaces (the
same file name, <name>.json).
Call: include "istio.grafana.dashboards" $
*/}}
{{- define "istio.grafana.dashboards" -}}
{{- $own := .Values.grafana.dashboards }}
{{- range list "galley-dashboard" "istio-mesh-dashboard" "istio-performance-dashboard" "istio-service-dashboard" "istio-workload-dashboard" "mixer-dashboard" "pilot-dashboard" }}
{{- if not (hasKey $own (printf "%s.json" .)) }}
{{ . }}
{{- end }}
{{- end }}
{{- end -}}
