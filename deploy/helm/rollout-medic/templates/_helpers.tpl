{{- define "rollout-medic.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "rollout-medic.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "rollout-medic.labels" -}}
app.kubernetes.io/name: rollout-medic
app.kubernetes.io/part-of: rollout-medic
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "rollout-medic.receiverSelector" -}}
app.kubernetes.io/name: rollout-medic
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: receiver
{{- end -}}

{{- define "rollout-medic.webhookSecret" -}}
{{- default (printf "%s-webhook" (include "rollout-medic.fullname" .)) .Values.webhook.existingSecret -}}
{{- end -}}
