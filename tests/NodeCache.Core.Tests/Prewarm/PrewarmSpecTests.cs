using System.Text.Json;
using NodeCache.Prewarm;

namespace NodeCache.Core.Tests.Prewarm;

public sealed class PrewarmSpecTests
{
    private static readonly Dictionary<string, string> GpuNode = new() { ["pool"] = "gpu", ["zone"] = "a", ["kubernetes.io/os"] = "linux" };

    [Fact]
    public void Node_selector_selects_a_node_carrying_every_label_with_the_same_value_as_match_labels_does()
    {
        Assert.True(new PrewarmSpec { NodeSelector = new Dictionary<string, string> { ["pool"] = "gpu" } }.Selects(GpuNode));
        Assert.True(new PrewarmSpec { NodeSelector = new Dictionary<string, string> { ["pool"] = "gpu", ["zone"] = "a" } }.Selects(GpuNode));
        Assert.False(new PrewarmSpec { NodeSelector = new Dictionary<string, string> { ["pool"] = "gpu", ["zone"] = "b" } }.Selects(GpuNode));
        Assert.False(new PrewarmSpec { NodeSelector = new Dictionary<string, string> { ["pool"] = "GPU" } }.Selects(GpuNode));
        Assert.False(new PrewarmSpec { NodeSelector = new Dictionary<string, string> { ["tier"] = "" } }.Selects(GpuNode));
        Assert.False(new PrewarmSpec { NodeSelector = new Dictionary<string, string> { ["pool"] = "gpu" } }.Selects(null));
    }

    [Fact]
    public void Empty_or_absent_node_selector_selects_every_node()
    {
        Assert.True(new PrewarmSpec().Selects(GpuNode));
        Assert.True(new PrewarmSpec().Selects(null));
        Assert.True(new PrewarmSpec { NodeSelector = new Dictionary<string, string>() }.Selects(new Dictionary<string, string>()));
    }

    [Fact]
    public void Spec_reads_the_crd_fields_and_leaves_absent_optional_ones_out_when_written()
    {
        var spec = JsonSerializer.Deserialize<PrewarmSpec>("""{"images":["harbor.test/a:1"],"nodeSelector":{"pool":"gpu"},"pin":true,"ttl":"1h30m","platform":"linux/arm64"}""")!;

        Assert.Equal(["harbor.test/a:1"], spec.Images);
        Assert.Equal("gpu", spec.NodeSelector!["pool"]);
        Assert.True(spec.Pin);
        Assert.Equal("1h30m", spec.Ttl);
        Assert.Equal("linux/arm64", spec.Platform);
        Assert.Equal("""{"images":["harbor.test/a:1"],"pin":false}""", JsonSerializer.Serialize(new PrewarmSpec { Images = ["harbor.test/a:1"] }));
    }

    [Fact]
    public void Node_status_phase_is_written_by_name()
    {
        var json = JsonSerializer.Serialize(new NodePrewarmStatus { Phase = NodePrewarmPhase.Expired, ObservedGeneration = 3 });

        Assert.Contains("\"phase\":\"Expired\"", json, StringComparison.Ordinal);
        Assert.Equal(NodePrewarmPhase.Expired, JsonSerializer.Deserialize<NodePrewarmStatus>(json)!.Phase);
    }
}
