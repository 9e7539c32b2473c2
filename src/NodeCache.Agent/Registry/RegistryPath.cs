namespace NodeCache.Agent.Registry;

/// <summary>What a <c>/v2/...</c> path asks for.</summary>
internal enum RegistryResource
{
    /// <summary><c>/v2/</c>: the API version check.</summary>
    ApiBase,
    Manifest,
    Blob,

    /// <summary><c>/v2/&lt;name&gt;/tags/list</c>.</summary>
    TagList,

    /// <summary><c>/v2/&lt;name&gt;/referrers/&lt;digest&gt;</c>.</summary>
    Referrers,

    /// <summary>Part of the API a pull-through mirror does not offer: uploads.</summary>
    Unsupported,
    Unknown,
}

/// <summary>A <c>/v2/</c> request path split into repository name and reference, not yet validated.</summary>
internal readonly record struct RegistryPath(RegistryResource Resource, string Name, string Reference)
{
    /// <summary>Splits from the end, so that a repository may itself contain <c>manifests</c> or <c>blobs</c> components.</summary>
    public static RegistryPath Parse(string path)
    {
        // Routed under /v2, so the path here is what follows it.
        var rest = path.AsSpan().TrimStart('/');
        if (rest.IsEmpty)
        {
            return new RegistryPath(RegistryResource.ApiBase, "", "");
        }
        var last = rest.LastIndexOf('/');
        if (last <= 0)
        {
            return new RegistryPath(RegistryResource.Unknown, "", "");
        }
        var reference = rest[(last + 1)..];
        var head = rest[..last];
        var kindStart = head.LastIndexOf('/');
        var kind = kindStart < 0 ? head : head[(kindStart + 1)..];
        var name = kindStart < 0 ? "" : head[..kindStart].ToString();
        return kind switch
        {
            _ when kindStart < 0 => new RegistryPath(RegistryResource.Unknown, "", ""),
            "manifests" => new RegistryPath(RegistryResource.Manifest, name, reference.ToString()),
            "blobs" => new RegistryPath(RegistryResource.Blob, name, reference.ToString()),
            "uploads" when name.EndsWith("/blobs", StringComparison.Ordinal) => new RegistryPath(RegistryResource.Unsupported, name[..^"/blobs".Length], ""),
            "tags" when reference.SequenceEqual("list") => new RegistryPath(RegistryResource.TagList, name, ""),
            "referrers" => new RegistryPath(RegistryResource.Referrers, name, reference.ToString()),
            _ => new RegistryPath(RegistryResource.Unknown, "", ""),
        };
    }
}
