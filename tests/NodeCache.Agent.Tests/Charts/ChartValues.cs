using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Charts;

/// <summary>Values files the chart tests render and lint with, written into a temp folder.</summary>
public static class ChartValues
{
    /// <summary>Every option of the chart set to something other than its default.</summary>
    public const string EveryOption = """
        nameOverride: ""
        fullnameOverride: ""
        image:
          repository: registry.example/platform/nodecache-agent
          tag: 0.2.0-rc.1
          pullPolicy: Always
        imagePullSecrets:
          - name: platform-pull
        serviceAccount:
          create: true
          name: nodecache-agent
          annotations:
            team: platform
          automountServiceAccountToken: false
        listen:
          - 127.0.0.1:5051
          - "[::1]:5051"
        cacheDir: /mnt/nvme/nodecache
        cacheSize: 80%
        upstreams:
          - registry: docker.io
            urls:
              - https://harbor.example/dockerhub-proxy
              - https://harbor-dr.example/dockerhub-proxy
          - registry: _default
            urls: [direct]
        defaultRegistry: ghcr.io
        harbor:
          host: harbor.example
          existingSecret: harbor-robot
        caBundle:
          existingSecret: corporate-ca
          existingConfigMap: ""
          key: bundle.pem
        connectTimeout: 500ms
        tagTtl: 5m
        manifestRevalidate: "off"
        checkpointInterval: 1m
        logLevel: Debug
        extraArgs:
          - --tag-ttl
          - 10m
        extraEnv:
          - name: NODECACHE_CHECKPOINT_INTERVAL
            value: 2m
        resources:
          requests:
            cpu: 100m
            memory: 256Mi
          limits:
            cpu: "1"
            memory: 1Gi
        priorityClassName: nodecache-critical
        tolerations:
          - key: dedicated
            operator: Equal
            value: gpu
            effect: NoSchedule
        nodeSelector:
          node-role.kubernetes.io/worker: "true"
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
                - matchExpressions:
                    - key: kubernetes.io/arch
                      operator: In
                      values: [amd64, arm64]
        dnsPolicy: Default
        updateStrategy:
          maxUnavailable: 10%
        terminationGracePeriodSeconds: 45
        eviction:
          highWatermark: 95%
          lowWatermark: 70%
          interval: 30s
        scrub:
          rate: 16MiB
          interval: 12h
        diskReserve: 1GiB
        shutdownTimeoutSeconds: 40
        podAnnotations:
          example.com/owner: platform
        podLabels:
          example.com/tier: node
        podSecurityContext:
          seccompProfile:
            type: RuntimeDefault
        securityContext:
          runAsUser: 65532
          runAsGroup: 65532
          runAsNonRoot: true
        prometheus:
          scrape: true
        rbac:
          create: true
        crds:
          install: true
        control:
          socket: /var/run/nodecache-control/agent.sock
          listen: 127.0.0.1:5052
        prefetch:
          concurrency: 4
          bandwidth: 50MiB
          pullSecrets: true
          privateImages: serve
        containerdHosts:
          enabled: true
          dir: /etc/containerd/registries.d
          registries:
            - docker.io=https://registry-1.docker.io
            - harbor.example
        metrics:
          listen: $(NODE_IP):9405
          serviceMonitor:
            enabled: true
            interval: 15s
            labels:
              release: kube-prometheus
          prometheusRule:
            enabled: true
            labels:
              release: kube-prometheus
          dashboard:
            enabled: true
            labels:
              grafana_dashboard: "1"
              team: platform
        peering:
          enabled: true
          port: 5061
          zoneLocal: true
          existingSecret: cluster-peer-secret
          tls:
            existingSecret: peer-tls
        """;

    /// <summary>Writes <paramref name="yaml"/> as values.yaml in <paramref name="folder"/> and returns its path.</summary>
    public static string Write(TempFolder folder, string yaml, string name = "values.yaml")
    {
        var path = folder.Combine(name);
        File.WriteAllText(path, yaml);
        return path;
    }
}
