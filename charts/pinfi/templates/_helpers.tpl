{{/* Names, labels and small shared fragments. */}}

{{- define "pinfi.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<chart>, or the release name when it already contains the chart name. Kept to 40
characters so "<fullname>-scheduler-plugin" and the like stay within 63. */}}
{{- define "pinfi.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "pinfi.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "pinfi.labels" -}}
helm.sh/chart: {{ include "pinfi.chart" . }}
app.kubernetes.io/name: {{ include "pinfi.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pinfi
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "operator"). */}}
{{- define "pinfi.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pinfi.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of one component's objects: (dict "ctx" $ "component" "operator"). */}}
{{- define "pinfi.componentLabels" -}}
{{ include "pinfi.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "pinfi.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The kube-scheduler image: the configured tag, or the cluster's version without build
metadata or a vendor suffix (v1.30.5-gke.1014001 -> v1.30.5), which is how registry.k8s.io tags it. */}}
{{- define "pinfi.schedulerImage" -}}
{{- $tag := .Values.scheduler.image.tag -}}
{{- if not $tag -}}
{{- $tag = regexFind "^v[0-9]+\\.[0-9]+\\.[0-9]+" .Capabilities.KubeVersion.Version -}}
{{- end -}}
{{- printf "%s:%s" .Values.scheduler.image.repository $tag -}}
{{- end -}}

{{- define "pinfi.operator.fullname" -}}{{ include "pinfi.fullname" . }}-operator{{- end -}}
{{- define "pinfi.plugin.fullname" -}}{{ include "pinfi.fullname" . }}-scheduler-plugin{{- end -}}
{{- define "pinfi.scheduler.fullname" -}}{{ include "pinfi.fullname" . }}-scheduler{{- end -}}
{{- define "pinfi.webhook.secretName" -}}
{{- if eq .Values.schedulerPlugin.webhook.certificate.source "secret" -}}
{{- .Values.schedulerPlugin.webhook.certificate.secretName -}}
{{- else -}}
{{- include "pinfi.fullname" . }}-webhook-tls
{{- end -}}
{{- end -}}
{{- define "pinfi.webhook.configurationName" -}}{{ include "pinfi.fullname" . }}-lease-pods{{- end -}}

{{- define "pinfi.operator.serviceAccountName" -}}
{{- default (include "pinfi.operator.fullname" .) .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- define "pinfi.plugin.serviceAccountName" -}}
{{- default (include "pinfi.plugin.fullname" .) .Values.schedulerPlugin.serviceAccount.name -}}
{{- end -}}
{{- define "pinfi.scheduler.serviceAccountName" -}}
{{- default (include "pinfi.scheduler.fullname" .) .Values.scheduler.serviceAccount.name -}}
{{- end -}}

{{/* Where kube-scheduler reaches the extender. */}}
{{- define "pinfi.extenderUrl" -}}
http://{{ include "pinfi.plugin.fullname" . }}.{{ .Release.Namespace }}.svc:{{ .Values.schedulerPlugin.port }}
{{- end -}}

{{/* The chain is configured when an RPC URL is given, directly or through a Secret. */}}
{{- define "pinfi.chainEnabled" -}}
{{- if or .Values.chain.rpcUrl .Values.chain.rpcUrlSecret.name -}}true{{- end -}}
{{- end -}}

{{/* The restricted Pod Security Standard: the pod level. */}}
{{- define "pinfi.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The restricted Pod Security Standard: the container level. */}}
{{- define "pinfi.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Default affinity: spread a component's replicas over nodes when possible. */}}
{{- define "pinfi.affinity" -}}
{{- if .affinity -}}
{{ toYaml .affinity }}
{{- else -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "pinfi.selectorLabels" (dict "ctx" .ctx "component" .component) | nindent 12 }}
{{- end -}}
{{- end -}}

{{/* Scheduling fields shared by the Deployments: (dict "ctx" $ "component" "operator" "v" .Values.operator). */}}
{{- define "pinfi.podScheduling" -}}
{{- with .v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
affinity:
  {{- include "pinfi.affinity" (dict "ctx" .ctx "component" .component "affinity" .v.affinity) | nindent 2 }}
{{- with .v.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* DNS names the webhook's Service answers to: what its serving certificate must cover. */}}
{{- define "pinfi.webhook.dnsNames" -}}
{{- $svc := include "pinfi.plugin.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson -}}
{{- end -}}

{{/*
The chart-generated webhook certificate (certificate.source helm), as JSON {crt, key, ca, notAfter}:
the one in the cluster's Secret while it covers the Service's names and is not due for renewal,
otherwise a new CA and serving certificate. Computed once per render and kept in .Values, so the
Secret, the webhook configuration's caBundle and the plugin pods' checksum agree. (`lookup` sees
nothing under `helm template` and --dry-run, which therefore always show a fresh certificate.)
*/}}
{{- define "pinfi.webhook.certificate" -}}
{{- if not (hasKey .Values "__pinfiWebhookCertificate") -}}
{{- $c := .Values.schedulerPlugin.webhook.certificate -}}
{{- $dns := include "pinfi.webhook.dnsNames" . | fromJsonArray -}}
{{- $name := include "pinfi.webhook.secretName" . -}}
{{- $result := dict -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace $name -}}
{{- if and $existing (hasKey $existing "data") -}}
{{- $data := $existing.data | default dict -}}
{{- $ann := $existing.metadata.annotations | default dict -}}
{{- $notAfter := index $ann "pinfi.io/not-after" | default "" -}}
{{- if and (index $data "tls.crt") (index $data "tls.key") (index $data "ca.crt") $notAfter (eq (index $ann "pinfi.io/dns-names" | default "") (join "," $dns)) -}}
{{- $renewAt := sub (toDate "2006-01-02T15:04:05Z07:00" $notAfter | unixEpoch | int64) (mul (int64 $c.renewBeforeDays) 86400) -}}
{{- if lt (now | unixEpoch | int64) $renewAt -}}
{{- $result = dict "crt" (index $data "tls.crt" | b64dec) "key" (index $data "tls.key" | b64dec) "ca" (index $data "ca.crt" | b64dec) "notAfter" $notAfter -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not $result.crt -}}
{{- $ca := genCA (printf "%s-webhook-ca" (include "pinfi.fullname" .)) (int $c.validityDays) -}}
{{- $cert := genSignedCert (index $dns 0) nil $dns (int $c.validityDays) $ca -}}
{{- $notAfter := dateInZone "2006-01-02T15:04:05Z07:00" (now | dateModify (printf "+%dh" (mul (int $c.validityDays) 24))) "UTC" -}}
{{- $result = dict "crt" $cert.Cert "key" $cert.Key "ca" $ca.Cert "notAfter" $notAfter -}}
{{- end -}}
{{- $_ := set .Values "__pinfiWebhookCertificate" $result -}}
{{- end -}}
{{- index .Values "__pinfiWebhookCertificate" | toJson -}}
{{- end -}}

{{/* NetworkPolicy egress rules. */}}
{{- define "pinfi.np.portsTo" -}}
{{- /* An egress rule to .ports, on .cidrs or anywhere. */ -}}
- ports:
    {{- range .ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- if .cidrs }}
  to:
    {{- range .cidrs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  {{- end }}
{{- end }}
{{- define "pinfi.np.dns" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}
