namespace NodeCache.Mirror;

/// <summary>Why the mirror cannot answer a request, in the domain's words; the host that serves it chooses the status code.</summary>
public enum MirrorFailure
{
    /// <summary>Neither the cache nor the upstream knows it.</summary>
    NotFound,

    /// <summary>The request names nothing that can exist: an invalid repository, registry, digest or reference.</summary>
    Invalid,

    /// <summary>The upstream wants credentials that the mirror lacks, or refused the ones it sent.</summary>
    Unauthorized,

    /// <summary>Access is refused: by the upstream with the mirror's credentials, or by this node's private-image policy.</summary>
    Denied,

    /// <summary>A policy of the upstream refused it (Harbor answers 412 when a project's policy blocks an image).</summary>
    DeniedByPolicy,

    /// <summary>The upstream refused the request for another reason; <see cref="MirrorError.UpstreamStatus"/> says how.</summary>
    Rejected,

    /// <summary>The upstream is rate-limiting.</summary>
    TooManyRequests,

    /// <summary>The upstream is unreachable or failing, or the transfer from it broke off.</summary>
    Unavailable,

    /// <summary>The upstream answered what no registry should: a manifest too large, bytes that are not their digest's.</summary>
    BadUpstream,

    /// <summary>The request is not part of pulling (a push, an upload): a pull-through mirror does not do it.</summary>
    Unsupported,

    /// <summary>A fault of the mirror itself.</summary>
    Internal,
}
