{{/* The chart name, or nameOverride. */}}
{{- define "nodecache.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's resources: fullnameOverride, or the release name with the chart name
appended unless the release name already contains it. 63 characters at most (DNS label).
*/}}
{{- define "nodecache.fullname" -}}
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

{{/* chart-version for the helm.sh/chart label. */}}
{{- define "nodecache.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels that select the agent's pods; never change them, a DaemonSet's selector is immutable. */}}
{{- define "nodecache.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nodecache.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: agent
{{- end }}

{{/* Kubernetes' recommended labels, on every resource. */}}
{{- define "nodecache.labels" -}}
helm.sh/chart: {{ include "nodecache.chart" . }}
{{ include "nodecache.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: nodecache
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "nodecache.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "nodecache.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "nodecache.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Where the agent's config, credentials and CA bundle are mounted in the container. */}}
{{- define "nodecache.configPath" -}}/etc/nodecache/config/agent.yaml{{- end }}
{{/* One folder per host; a host's ":port" becomes "_port" in the folder name. */}}
{{- define "nodecache.credentialsPath" -}}/etc/nodecache/credentials/{{ .Values.harbor.host | replace ":" "_" }}{{- end }}
{{- define "nodecache.caFilePath" -}}/etc/nodecache/ca/{{ .Values.caBundle.key }}{{- end }}

{{/* The port of the first listen address: the probes' and the declared container port. */}}
{{- define "nodecache.port" -}}
{{- first .Values.listen | splitList ":" | last }}
{{- end }}

{{/*
The host the kubelet probes: the first listen address's host. The pod shares the node's network, so a
loopback address is the node's own; a wildcard address is probed on loopback.
*/}}
{{- define "nodecache.probeHost" -}}
{{- $address := first .Values.listen }}
{{- $host := $address | trimSuffix (printf ":%s" (include "nodecache.port" .)) | trimPrefix "[" | trimSuffix "]" }}
{{- if eq $host "0.0.0.0" }}127.0.0.1
{{- else if eq $host "::" }}::1
{{- else if eq $host "localhost" }}127.0.0.1
{{- else }}{{ $host }}
{{- end }}
{{- end }}

{{/* Mistakes in values that the schema cannot see, each failing the render with one line. */}}
{{- define "nodecache.validate" -}}
{{- if and .Values.harbor.existingSecret (not .Values.harbor.host) }}
{{- fail "harbor.host is required with harbor.existingSecret: it is the host the credentials are for" }}
{{- end }}
{{- if and .Values.caBundle.existingSecret .Values.caBundle.existingConfigMap }}
{{- fail "caBundle: give existingSecret or existingConfigMap, not both" }}
{{- end }}
{{- if and (not (kindIs "invalid" .Values.terminationGracePeriodSeconds)) (le (int .Values.terminationGracePeriodSeconds) (int .Values.shutdownTimeoutSeconds)) }}
{{- fail "terminationGracePeriodSeconds must exceed shutdownTimeoutSeconds: the kubelet would kill the agent before it drained and checkpointed" }}
{{- end }}
{{- if and .Values.peering.enabled (eq (include "nodecache.port" . | int) (int .Values.peering.port)) }}
{{- fail "peering.port must differ from the port of listen: both are bound on the node's network" }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.listen) }}
{{- fail "metrics.serviceMonitor needs metrics.listen: the agent's own listener is on the node's loopback, which Prometheus cannot reach" }}
{{- end }}
{{- end }}

{{/* The mirror URL containerd's hosts.toml names: the first listen address, over plain HTTP on the node's network. */}}
{{- define "nodecache.mirrorUrl" -}}
{{- $address := first .Values.listen }}
{{- $host := $address | trimSuffix (printf ":%s" (include "nodecache.port" .)) }}
{{- if eq $host "0.0.0.0" }}{{ $host = "127.0.0.1" }}{{ else if eq $host "[::]" }}{{ $host = "[::1]" }}{{ end }}
{{- printf "http://%s:%s" $host (include "nodecache.port" .) }}
{{- end }}

{{/* The registries whose hosts.toml the sidecar writes: containerdHosts.registries, else the upstreams', else _default. */}}
{{- define "nodecache.hostsRegistries" -}}
{{- if .Values.containerdHosts.registries }}
{{- toJson .Values.containerdHosts.registries }}
{{- else if .Values.upstreams }}
{{- $registries := list }}
{{- range .Values.upstreams }}{{ $registries = append $registries .registry }}{{ end }}
{{- toJson $registries }}
{{- else }}
{{- toJson (list "_default") }}
{{- end }}
{{- end }}

{{/* The port of metrics.listen. */}}
{{- define "nodecache.metricsPort" -}}
{{- .Values.metrics.listen | splitList ":" | last }}
{{- end }}

{{/* The pod's grace period: as given, else the agent's shutdown timeout and 5 s for the final checkpoint after it. */}}
{{- define "nodecache.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add (int .Values.shutdownTimeoutSeconds) 5 }}
{{- else }}
{{- int .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* The headless Service whose EndpointSlices are the peering membership. */}}
{{- define "nodecache.peersService" -}}{{ include "nodecache.fullname" . }}-peers{{- end }}

{{/* The Secret holding the cluster's peer secret under the key token: the user's, or the one the chart keeps. */}}
{{- define "nodecache.peerSecret" -}}{{ .Values.peering.existingSecret | default (printf "%s-peer" (include "nodecache.fullname" .)) }}{{- end }}

{{- define "nodecache.peerTokenPath" -}}/etc/nodecache/peer/token{{- end }}
{{- define "nodecache.peerTlsPath" -}}/etc/nodecache/peer-tls{{- end }}
