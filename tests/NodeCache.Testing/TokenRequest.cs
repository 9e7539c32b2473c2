namespace NodeCache.Testing;

/// <summary>One call to the token endpoint as the server saw it: who asked (by Basic auth), for what, and what was granted.</summary>
public sealed record TokenRequest(
    DateTimeOffset At,
    string? User,
    string? Service,
    IReadOnlyList<string> Scopes,
    IReadOnlyList<RepositoryAccess> Granted,
    int Status);
