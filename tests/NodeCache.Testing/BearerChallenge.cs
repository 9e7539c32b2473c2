using System.Text.RegularExpressions;

namespace NodeCache.Testing;

/// <summary>The parameters of a <c>WWW-Authenticate: Bearer realm="..",service="..",scope=".."</c> challenge.</summary>
public sealed partial record BearerChallenge(string Realm, string? Service, string? Scope, string? Error)
{
    /// <summary>Parses the parameter part (after <c>Bearer </c>); scopes hold commas, so values are read as quoted strings.</summary>
    public static BearerChallenge Parse(string parameters)
    {
        var values = Parameter().Matches(parameters).ToDictionary(m => m.Groups["key"].Value.ToLowerInvariant(), m => m.Groups["value"].Value);
        return new BearerChallenge(
            values.GetValueOrDefault("realm") ?? throw new FormatException($"Bearer challenge without realm: {parameters}"),
            values.GetValueOrDefault("service"),
            values.GetValueOrDefault("scope"),
            values.GetValueOrDefault("error"));
    }

    [GeneratedRegex("(?<key>[A-Za-z_]+)=\"(?<value>[^\"]*)\"")]
    private static partial Regex Parameter();
}
