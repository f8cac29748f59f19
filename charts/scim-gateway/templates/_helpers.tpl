{{/* Names, labels and the gateway configuration the chart renders. */}}

{{- define "scim-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name; objects are named after it. */}}
{{- define "scim-gateway.fullname" -}}
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

{{- define "scim-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object but the component. */}}
{{- define "scim-gateway.baseLabels" -}}
helm.sh/chart: {{ include "scim-gateway.chart" . }}
app.kubernetes.io/name: {{ include "scim-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "scim-gateway.labels" -}}
{{ include "scim-gateway.baseLabels" . }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "scim-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "scim-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "scim-gateway.redisLabels" -}}
{{ include "scim-gateway.baseLabels" . }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "scim-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "scim-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "scim-gateway.image" -}}
{{- $repo := .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repo .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret that secretEnv reads: existingSecret, or the chart's own. */}}
{{- define "scim-gateway.secretName" -}}
{{- default (include "scim-gateway.fullname" .) .Values.existingSecret }}
{{- end }}

{{- define "scim-gateway.tokenSecretName" -}}
{{- printf "%s-token" (include "scim-gateway.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "scim-gateway.redisName" -}}
{{- printf "%s-redis" (include "scim-gateway.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "scim-gateway.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "scim-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{/* Paths inside the gateway container. */}}
{{- define "scim-gateway.configDir" -}}/etc/scim-gateway{{- end }}
{{- define "scim-gateway.tlsDir" -}}/var/run/secrets/scim-gateway/tls{{- end }}

{{/* redisEnabled is "true" when the gateway is to use Redis. */}}
{{- define "scim-gateway.redisEnabled" -}}
{{- if or .Values.redis.internal.enabled .Values.redis.url .Values.redis.addrs }}true{{- end }}
{{- end }}

{{/*
The gateway's config.yaml: .Values.config with the keys the chart owns set
over it. Problems a values file can have beyond the schema fail here, with
a message naming the value.
*/}}
{{- define "scim-gateway.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) }}
{{- $server := get $cfg "server" | default dict }}
{{- if hasKey $server "listen" }}
{{- fail "config.server.listen: set by the chart; set containerPort instead" }}
{{- end }}
{{- if hasKey $server "tls" }}
{{- fail "config.server.tls: set by the chart; set tls.enabled and tls.secretName instead" }}
{{- end }}
{{- $_ := set $server "listen" (printf ":%d" (int .Values.containerPort)) }}
{{- if .Values.tls.enabled }}
{{- if not .Values.tls.secretName }}
{{- fail "tls.secretName: required when tls.enabled (a kubernetes.io/tls Secret)" }}
{{- end }}
{{- $dir := include "scim-gateway.tlsDir" . }}
{{- $_ := set $server "tls" (dict "certFile" (printf "%s/tls.crt" $dir) "keyFile" (printf "%s/tls.key" $dir)) }}
{{- end }}
{{- $_ := set $cfg "server" $server }}
{{- /* Redis is the cache's shared store: cache.redis of the gateway. */}}
{{- $r := .Values.redis }}
{{- if include "scim-gateway.redisEnabled" . }}
{{- $cache := get $cfg "cache" | default dict }}
{{- if hasKey $cache "redis" }}
{{- fail "config.cache.redis: set by the chart; set the redis values instead" }}
{{- end }}
{{- $redis := dict }}
{{- if $r.internal.enabled }}
{{- if or (ne $r.mode "single") $r.url $r.addrs }}
{{- fail "redis.internal.enabled: leave redis.mode single and redis.url, redis.addrs empty; the chart points the gateway at its own Redis" }}
{{- end }}
{{- $_ := set $redis "addrs" (list (printf "%s:6379" (include "scim-gateway.redisName" .))) }}
{{- else if eq $r.mode "single" }}
{{- if not $r.url }}
{{- fail "redis.url: required with redis.mode single (redis.addrs is for sentinel and cluster)" }}
{{- end }}
{{- $u := urlParse $r.url }}
{{- if or (not $u.host) $u.userinfo $u.query }}
{{- fail (printf "redis.url: want redis://host:port/db or rediss://host:port/db, without a password (see redis.existingSecret), got %q" $r.url) }}
{{- end }}
{{- $host := $u.host }}
{{- if not (regexMatch ":[0-9]+$" $host) }}
{{- $host = printf "%s:6379" $host }}
{{- end }}
{{- $_ := set $redis "addrs" (list $host) }}
{{- $db := trimPrefix "/" $u.path }}
{{- if $db }}
{{- if not (regexMatch "^[0-9]+$" $db) }}
{{- fail (printf "redis.url: the path is the database number, got %q" $u.path) }}
{{- end }}
{{- $_ := set $redis "db" (atoi $db) }}
{{- end }}
{{- if eq $u.scheme "rediss" }}
{{- $_ := set $redis "tls" dict }}
{{- end }}
{{- else }}
{{- if not $r.addrs }}
{{- fail (printf "redis.addrs: required with redis.mode %s" $r.mode) }}
{{- end }}
{{- if $r.url }}
{{- fail (printf "redis.url: for mode single only; mode %s takes redis.addrs" $r.mode) }}
{{- end }}
{{- $_ := set $redis "addrs" $r.addrs }}
{{- if eq $r.mode "sentinel" }}
{{- if not $r.masterName }}
{{- fail "redis.masterName: required with redis.mode sentinel" }}
{{- end }}
{{- $_ := set $redis "masterName" $r.masterName }}
{{- else }}
{{- $_ := set $redis "cluster" true }}
{{- end }}
{{- if $r.tls }}
{{- $_ := set $redis "tls" dict }}
{{- end }}
{{- end }}
{{- if and $r.masterName (ne $r.mode "sentinel") }}
{{- fail "redis.masterName: for mode sentinel only" }}
{{- end }}
{{- if $r.existingSecret }}
{{- $_ := set $redis "passwordEnv" "REDIS_PASSWORD" }}
{{- end }}
{{- $_ := set $cache "redis" $redis }}
{{- $_ := set $cfg "cache" $cache }}
{{- end }}
{{- $creds := get $cfg "credentials" | default dict }}
{{- if .Values.generatedToken.enabled }}
{{- $tok := dict "name" .Values.generatedToken.name "sha256Env" "GENERATED_TOKEN_SHA256" "targets" .Values.generatedToken.targets }}
{{- with .Values.generatedToken.defaultTarget }}
{{- $_ := set $tok "defaultTarget" . }}
{{- end }}
{{- $_ := set $creds "tokens" (append (get $creds "tokens" | default list) $tok) }}
{{- end }}
{{- if not (or (get $creds "tokens") (get $creds "jwt")) }}
{{- fail "config.credentials: no token and no JWT issuer, so no request could be served; add config.credentials.tokens or .jwt, or set generatedToken.enabled" }}
{{- end }}
{{- $_ := set $cfg "credentials" $creds }}
{{- if not (get $cfg "targets") }}
{{- fail "config.targets: at least one target is required" }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}
