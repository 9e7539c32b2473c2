namespace NodeCache.Access;

/// <summary>Who is served a cached image of a private repository (one the upstream refuses to anonymous clients).</summary>
public enum PrivateImageMode
{
    /// <summary>Anyone on the node: the mirror's own credentials decide, as a plain mirror does.</summary>
    Serve,

    /// <summary>Only while every pod on this node that names the repository holds a pull secret the upstream accepted for it.</summary>
    Verify,

    /// <summary>Never from the cache: private repositories are neither cached nor served; containerd pulls them upstream itself.</summary>
    Passthrough,
}
