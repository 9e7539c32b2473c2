using NodeCache.Agent.Tests.Charts;
using NodeCache.Testing;
using NodeCache.Testing.Images;

namespace NodeCache.Agent.Tests.Shipping;

/// <summary>
/// A container of the chart's rendered DaemonSet as the kubelet would start it, for <c>ctr run</c>: its process from the
/// image's entrypoint and the container's command and args, its environment with field references resolved, each
/// volume mount bound to a host folder (a hostPath at its path, a ConfigMap written out, an emptyDir made fresh), and
/// the isolation its security context asks for.
/// </summary>
internal static class DaemonSetContainer
{
    /// <summary>The spec for <paramref name="name"/>; ConfigMap and emptyDir folders are made in <paramref name="folder"/>.</summary>
    public static ContainerSpec Spec(RenderedChart chart, string name, OciLayoutImage image, TempFolder folder)
    {
        var pod = chart.PodSpec;
        var container = pod["containers"].Items.Single(c => c["name"].Text == name);
        var security = container["securityContext"];
        var volumes = pod["volumes"].Items.ToDictionary(v => v["name"].Text);
        // Parents before children, as containerd's CRI orders them: a folder mounted inside another mount's path (the
        // cache under /tmp, say) is not hidden by it.
        var mounts = container["volumeMounts"].Items.Select(mount =>
        {
            var volume = volumes[mount["name"].Text];
            return new ContainerMount(
                HostFolder(chart, volume, folder),
                mount["mountPath"].Text,
                mount.Has("readOnly") && mount["readOnly"].Text == "true");
        }).OrderBy(m => m.ContainerPath.TrimEnd('/').Count(c => c == '/')).ToList();
        // Kubernetes: command replaces the image's entrypoint, args its cmd; with a command and no args, the cmd is dropped.
        var command = container.Has("command") ? container["command"].Texts : image.Entrypoint;
        var args = container.Has("args") ? container["args"].Texts : container.Has("command") ? [] : image.Cmd;
        return new ContainerSpec(
            [.. command, .. args],
            RenderedChart.Environment(container),
            mounts,
            HostNetwork: pod.Has("hostNetwork") && pod["hostNetwork"].Text == "true",
            ReadOnlyRoot: security["readOnlyRootFilesystem"].Text == "true",
            DropAllCapabilities: security["capabilities"]["drop"].Texts.Contains("ALL"),
            Seccomp: security["seccompProfile"]["type"].Text == "RuntimeDefault");
    }

    /// <summary>The user the container runs as, <c>uid:gid</c>, from its security context.</summary>
    public static string User(RenderedChart chart, string name)
    {
        var security = chart.PodSpec["containers"].Items.Single(c => c["name"].Text == name)["securityContext"];
        return $"{security["runAsUser"].Text}:{security["runAsGroup"].Text}";
    }

    private static string HostFolder(RenderedChart chart, YamlNode volume, TempFolder folder)
    {
        var name = volume["name"].Text;
        if (volume.Has("hostPath"))
        {
            // type: DirectoryOrCreate
            var path = volume["hostPath"]["path"].Text;
            Directory.CreateDirectory(path);
            return path;
        }
        if (volume.Has("configMap"))
        {
            var files = folder.Combine($"configmap-{name}", create: true);
            var configMap = chart.Manifests.Single(m => m["kind"].Text == "ConfigMap" && m["metadata"]["name"].Text == volume["configMap"]["name"].Text);
            foreach (var (key, text) in configMap["data"].TextMap)
            {
                File.WriteAllText(Path.Combine(files, key), text);
            }
            return files;
        }
        if (volume.Has("emptyDir"))
        {
            return folder.Combine($"emptydir-{name}", create: true);
        }
        throw new InvalidOperationException($"the test cannot bind volume {name}: {string.Join(", ", volume.Keys)}");
    }
}
