{{/*
Chart name, overridable with nameOverride; DNS labels stop at 63 characters.
*/}}
{{- define "orderflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every resource name: RELEASE-orderflow, or the release name alone
when it already contains the chart name.
*/}}
{{- define "orderflow.fullname" -}}
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

{{/*
Chart label value: name-version.
*/}}
{{- define "orderflow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every resource. Call with (dict "ctx" $ "component" "api").
*/}}
{{- define "orderflow.labels" -}}
helm.sh/chart: {{ include "orderflow.chart" .ctx }}
{{ include "orderflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Values.image.tag | default .ctx.Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: orderflow
{{- end }}

{{/*
Selector labels: stable across upgrades (a Deployment's selector is immutable).
Call with (dict "ctx" $ "component" "api").
*/}}
{{- define "orderflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "orderflow.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
The orderflow image reference: repository@digest, or repository:tag with the
tag defaulting to the chart's appVersion.
*/}}
{{- define "orderflow.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Name of the user's Secret; rendering stops with a message when it is unset,
because neither process can start without the database URL.
*/}}
{{- define "orderflow.secretName" -}}
{{- required "secrets.existingSecret is required: create a Secret with DATABASE_URL, ORDERFLOW_TOKEN_SECRET, ORDERFLOW_LINK_SECRET, ORDERFLOW_LOGISTICS_WEBHOOK_SECRET and ORDERFLOW_PAYMENTS_WEBHOOK_SECRET (see deploy/README.md) and name it here" .Values.secrets.existingSecret }}
{{- end }}

{{/*
Name of the ConfigMap with the non-secret settings.
*/}}
{{- define "orderflow.configMapName" -}}
{{- printf "%s-config" (include "orderflow.fullname" .) }}
{{- end }}

{{/*
DATABASE_URL from the user's Secret; every process and the migration Job need it.
*/}}
{{- define "orderflow.databaseURLEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "orderflow.secretName" . }}
      key: {{ .Values.secrets.keys.databaseURL }}
{{- end }}

{{/*
Pod-level settings the api, worker and migration pods share.
*/}}
{{- define "orderflow.podCommon" -}}
automountServiceAccountToken: false
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/*
An emptyDir at /tmp: the root filesystem is read-only, and a library that
writes a temporary file should find somewhere to put it.
*/}}
{{- define "orderflow.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}
{{- define "orderflow.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}
