using System.Text.Json.Serialization;

namespace NodeCache.Testing;

/// <summary>
/// One entry of a registry token's <c>access</c> claim, and the scope syntax clients ask for it with:
/// <c>repository:library/app:pull,push</c>.
/// </summary>
public sealed record RepositoryAccess(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("actions")] IReadOnlyList<string> Actions)
{
    public const string Pull = "pull";
    public const string Push = "push";

    /// <summary>Parses one scope. The name sits between the first and the last colon, since a name may hold none but the type may (<c>repository(plugin)</c>).</summary>
    public static RepositoryAccess? ParseScope(string scope)
    {
        var first = scope.IndexOf(':');
        var last = scope.LastIndexOf(':');
        if (first <= 0 || last <= first)
        {
            return null;
        }
        var actions = scope[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new RepositoryAccess(scope[..first], scope[(first + 1)..last], actions);
    }

    public string ToScope() => $"{Type}:{Name}:{string.Join(',', Actions)}";

    public static string Scope(string repository, params string[] actions) => $"repository:{repository}:{string.Join(',', actions)}";
}
