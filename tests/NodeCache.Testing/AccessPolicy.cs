namespace NodeCache.Testing;

/// <summary>
/// Who may do what on the token-protected registry: users with passwords, repositories anyone may pull, and grants of
/// pull/push to users. Repositories not declared public are private: an anonymous token for one carries no access.
/// </summary>
public sealed class AccessPolicy
{
    private readonly Dictionary<string, string> _passwords = new(StringComparer.Ordinal);
    private readonly List<string> _publicRepositories = [];
    private readonly List<(string User, string Repositories, string[] Actions)> _grants = [];

    public AccessPolicy WithUser(string name, string password)
    {
        _passwords[name] = password;
        return this;
    }

    /// <summary>Anonymous and authenticated clients may pull it. A pattern ending in <c>/*</c> covers everything under it; <c>*</c> covers all.</summary>
    public AccessPolicy WithPublicRepository(string repositoryPattern)
    {
        _publicRepositories.Add(repositoryPattern);
        return this;
    }

    public AccessPolicy Grant(string user, string repositoryPattern, params string[] actions)
    {
        _grants.Add((user, repositoryPattern, actions));
        return this;
    }

    public bool Authenticates(string user, string password) =>
        _passwords.TryGetValue(user, out var expected) && expected == password;

    /// <summary>The subset of the requested actions the (possibly anonymous) user holds on the repository.</summary>
    public IReadOnlyList<string> Allowed(string? user, string repository, IEnumerable<string> requested)
    {
        var held = new HashSet<string>(StringComparer.Ordinal);
        if (_publicRepositories.Any(pattern => Matches(pattern, repository)))
        {
            held.Add(RepositoryAccess.Pull);
        }
        if (user is not null)
        {
            foreach (var grant in _grants.Where(g => g.User == user && Matches(g.Repositories, repository)))
            {
                held.UnionWith(grant.Actions);
            }
        }
        return [.. requested.Where(held.Contains).Distinct()];
    }

    private static bool Matches(string pattern, string repository) =>
        pattern == "*"
        || pattern == repository
        || (pattern.EndsWith("/*", StringComparison.Ordinal) && repository.StartsWith(pattern[..^1], StringComparison.Ordinal));
}
