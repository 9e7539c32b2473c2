using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Mirror;

/// <summary>
/// The cluster's other agents, asked about a manifest only while the upstream cannot answer (unreachable, or a 5xx): the
/// same condition under which this agent serves its own cached copy stale.
/// </summary>
public interface IManifestLenders
{
    /// <summary>What the other agents hold for <paramref name="reference"/> (a tag or a digest) and know of its repository.</summary>
    Task<LenderAnswer> AskAsync(UpstreamRoute route, RepositoryName repository, string reference, string? accept, CancellationToken cancellationToken);
}

/// <summary>What the other agents said about a manifest.</summary>
/// <param name="Manifest">A copy one of them holds and does not hold as denied, its bytes checked against its digest; null when none does.</param>
/// <param name="FetchedAt">When the lender last heard the upstream name it for the tag; null for a manifest by digest.</param>
/// <param name="Denial">The upstream's refusal, when any agent holds the manifest (by this reference or by its digest) as denied.</param>
/// <param name="RepositoryPublic">Some agent last found the repository public (the upstream answered an anonymous request).</param>
/// <param name="Lender">The agent whose copy it is, for logs.</param>
public sealed record LenderAnswer(ManifestContent? Manifest, DateTimeOffset? FetchedAt, MirrorError? Denial, bool RepositoryPublic, string? Lender)
{
    public static LenderAnswer None { get; } = new(null, null, null, false, null);
}

/// <summary>What this agent can lend another of a manifest: its copy, or the upstream's denial, or nothing.</summary>
/// <param name="FetchedAt">When the upstream last named the copy for the tag; null for a manifest by digest.</param>
public readonly record struct ManifestLoan(ManifestContent? Manifest, DateTimeOffset? FetchedAt, MirrorError? Denial);
