using System.Text.Json;

namespace NodeCache.Prefetch;

/// <summary>The OS, architecture and variant of a node, as its Node object's labels name them; picks its entry of an image index.</summary>
public sealed record NodePlatform(string Os, string Architecture, string? Variant = null)
{
    public static NodePlatform LinuxAmd64 { get; } = new("linux", "amd64");

    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    /// <summary>
    /// True when an index entry's <c>platform</c> runs here. Variants are compared when both sides name one, as containerd's
    /// default matcher does, with arm64's implicit <c>v8</c>.
    /// </summary>
    public bool Matches(JsonElement platform)
    {
        if (platform.ValueKind != JsonValueKind.Object)
        {
            return false;
        }
        var os = Text(platform, "os");
        var architecture = Text(platform, "architecture");
        if (!string.Equals(os, Os, StringComparison.OrdinalIgnoreCase) || !string.Equals(architecture, Architecture, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var variant = Text(platform, "variant");
        return Normal(variant) is not { } theirs || Normal(Variant) is not { } ours || theirs == ours;
    }

    private string? Normal(string? variant) =>
        string.IsNullOrEmpty(variant) ? (Architecture == "arm64" ? "v8" : null) : variant.ToLowerInvariant();

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
