{{/*
Helpers of the galley templates.
*/}}

{{/*
istio.galley.webhooks: the webhooks list of Galley's ValidatingWebhookConfiguration,
shared by the Helm-managed object and the copy Galley reads from its ConfigMap. The
resources are those Galley 1.1 validates: Pilot rejects kinds it does not know, so the
lists are explicit.
Call: {{- include "istio.galley.webhooks" (dict "failurePolicy" "Fail" "caBundle" "" "root" $) | nindent 2 }}
*/}}
{{- define "istio.galley.webhooks" -}}
{{- $service := include "istio.resourceName" (dict "name" "istio-galley" "root" .root) -}}
{{- range $webhook := list "pilot" "mixer" }}
- name: {{ printf "%s.validation.istio.io" $webhook }}
  clientConfig:
    service:
      name: {{ $service | quote }}
      namespace: {{ $.root.Release.Namespace | quote }}
      path: {{ printf "/admit%s" $webhook }}
      port: 443
    {{- with $.caBundle }}
    caBundle: {{ . | quote }}
    {{- end }}
  rules:
    {{- if eq $webhook "pilot" }}
    - operations: ["CREATE", "UPDATE"]
      apiGroups: ["networking.istio.io"]
      apiVersions: ["v1alpha3"]
      resources: ["destinationrules", "envoyfilters", "gateways", "serviceentries", "sidecars", "virtualservices"]
    - operations: ["CREATE", "UPDATE"]
      apiGroups: ["authentication.istio.io"]
      apiVersions: ["v1alpha1"]
      resources: ["meshpolicies", "policies"]
    - operations: ["CREATE", "UPDATE"]
      apiGroups: ["rbac.istio.io"]
      apiVersions: ["v1alpha1"]
      resources: ["clusterrbacconfigs", "rbacconfigs", "servicerolebindings", "serviceroles"]
    # Mixer client configuration, which Pilot turns into proxy filters.
    - operations: ["CREATE", "UPDATE"]
      apiGroups: ["config.istio.io"]
      apiVersions: ["v1alpha2"]
      resources: ["httpapispecbindings", "httpapispecs", "quotaspecbindings", "quotaspecs"]
    {{- else }}
    - operations: ["CREATE", "UPDATE"]
      apiGroups: ["config.istio.io"]
      apiVersions: ["v1alpha2"]
      resources:
        - rules
        - attributemanifests
        - circonuses
        - cloudwatches
        - deniers
        - dogstatsds
        - fluentds
        - kubernetesenvs
        - listcheckers
        - memquotas
        - noops
        - opas
        - prometheuses
        - rbacs
        - solarwindses
        - stackdrivers
        - statsds
        - stdios
        - apikeys
        - authorizations
        - checknothings
        - listentries
        - logentries
        - metrics
        - quotas
        - reportnothings
        - tracespans
    {{- end }}
  failurePolicy: {{ $.failurePolicy }}
  sideEffects: None
  # Galley 1.1 speaks AdmissionReview v1beta1; the API server sends the first version in
  # this list that it supports.
  admissionReviewVersions: ["v1beta1", "v1"]
{{- end }}
{{- end -}}
