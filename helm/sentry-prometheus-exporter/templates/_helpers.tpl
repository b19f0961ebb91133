{{/* Chart name, overridable. */}}
{{- define "sentry-prometheus-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart unless the release name already contains the chart name. */}}
{{- define "sentry-prometheus-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sentry-prometheus-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sentry-prometheus-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sentry-prometheus-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sentry-prometheus-exporter.labels" -}}
helm.sh/chart: {{ include "sentry-prometheus-exporter.chart" . }}
{{ include "sentry-prometheus-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: metrics
app.kubernetes.io/part-of: {{ include "sentry-prometheus-exporter.name" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "sentry-prometheus-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sentry-prometheus-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the token and the basic-auth credentials: the chart's own or existingSecret. */}}
{{- define "sentry-prometheus-exporter.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else }}
{{- include "sentry-prometheus-exporter.fullname" . }}
{{- end }}
{{- end }}

{{- define "sentry-prometheus-exporter.image" -}}
{{- $repo := .Values.image.repository }}
{{- if .Values.image.registry }}
{{- $repo = printf "%s/%s" .Values.image.registry .Values.image.repository }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repo .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/* Python-style booleans, as the exporter's environment variables are documented. */}}
{{- define "sentry-prometheus-exporter.bool" -}}
{{- if . }}True{{ else }}False{{ end }}
{{- end }}

{{/*
Fails with a clear message when the chart cannot work: no token and no existingSecret, no organization,
basic auth without a password, more than one replica. Included by every template that depends on these values.
*/}}
{{- define "sentry-prometheus-exporter.validate" -}}
{{- if gt (int .Values.replicaCount) 1 }}
{{- fail (printf "replicaCount is %d, and this chart runs at most 1 replica: each replica would poll Sentry with the same token, so the replicas would split (and each halve) the token's API rate budget and export the same numbers twice. Set replicaCount=1 (0 scales it down); running several replicas for high availability is a later feature." (int .Values.replicaCount)) }}
{{- end }}
{{- if not .Values.existingSecret }}
{{- $_ := required "sentry.authToken is required: set it (--set sentry.authToken=...) or name a Secret holding the token with existingSecret" .Values.sentry.authToken }}
{{- if .Values.basicAuth.enabled }}
{{- $_ := required "basicAuth.password is required when basicAuth.enabled is true (or name a Secret with existingSecret)" .Values.basicAuth.password }}
{{- $_ := required "basicAuth.username is required when basicAuth.enabled is true" .Values.basicAuth.username }}
{{- end }}
{{- end }}
{{- $_ := required "sentry.org is required: the Sentry organization slug (SENTRY_EXPORTER_ORG)" .Values.sentry.org }}
{{- end }}

{{/* Number formatting that never turns large values into 1e+06. */}}
{{- define "sentry-prometheus-exporter.num" -}}
{{- $s := toString . }}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) }}{{ int64 . }}{{ else }}{{ $s }}{{ end }}
{{- end }}
