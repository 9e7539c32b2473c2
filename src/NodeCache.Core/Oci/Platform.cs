using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace NodeCache.Oci;

/// <summary>An OS, architecture and variant: what a node runs (its Node labels), and what an index entry is built for.</summary>
public sealed record Platform(string Os, string Architecture, string? Variant = null)
{
    public static Platform LinuxAmd64 { get; } = new("linux", "amd64");

    /// <summary>The platform this process runs on.</summary>
    public static Platform Current { get; } = new("linux", RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        System.Runtime.InteropServices.Architecture.X86 => "386",
        System.Runtime.InteropServices.Architecture.S390x => "s390x",
        System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
        var other => other.ToString().ToLowerInvariant(),
    });

    /// <summary>Parses <c>os/arch[/variant]</c>, as <c>--platform</c> takes it.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Platform? platform)
    {
        platform = null;
        var parts = (text ?? "").Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(string.IsNullOrWhiteSpace))
        {
            return false;
        }
        platform = new Platform(parts[0].ToLowerInvariant(), parts[1].ToLowerInvariant(), parts.Length == 3 ? parts[2].ToLowerInvariant() : null);
        return true;
    }

    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    /// <summary>
    /// True when an image built for <paramref name="entry"/> runs here. Variants are compared when both sides name one, as
    /// containerd's default matcher does, with arm64's implicit <c>v8</c>.
    /// </summary>
    public bool Matches(Platform entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!string.Equals(entry.Os, Os, StringComparison.OrdinalIgnoreCase) || !string.Equals(entry.Architecture, Architecture, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        return Normal(entry.Variant) is not { } theirs || Normal(Variant) is not { } ours || theirs == ours;
    }

    /// <summary>Same OS and architecture, and the same variant once arm64's implicit <c>v8</c> is filled in.</summary>
    public bool IsExactly(Platform entry) => Matches(entry) && Normal(entry.Variant) == Normal(Variant);

    private string? Normal(string? variant) =>
        string.IsNullOrEmpty(variant) ? (string.Equals(Architecture, "arm64", StringComparison.OrdinalIgnoreCase) ? "v8" : null) : variant.ToLowerInvariant();
}
