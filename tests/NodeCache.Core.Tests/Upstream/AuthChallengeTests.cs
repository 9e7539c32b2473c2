using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Upstream;

public sealed class AuthChallengeTests
{
    [Fact]
    public void A_harbor_bearer_challenge_gives_realm_service_and_scope()
    {
        var challenge = AuthChallenge.Select(
            ["Bearer realm=\"https://harbor.example/service/token\",service=\"harbor-registry\",scope=\"repository:proj/repo:pull\""]);

        Assert.NotNull(challenge);
        Assert.True(challenge.IsBearer);
        Assert.Equal("https://harbor.example/service/token", challenge.Realm);
        Assert.Equal("harbor-registry", challenge.Service);
        Assert.Equal(["repository:proj/repo:pull"], challenge.Scopes);
    }

    [Fact]
    public void Several_scopes_are_separated_by_spaces()
    {
        var challenge = AuthChallenge.Select(["Bearer realm=\"https://a/token\",scope=\"repository:a:pull repository:b:pull\""]);

        Assert.Equal(["repository:a:pull", "repository:b:pull"], challenge!.Scopes);
    }

    [Fact]
    public void Bearer_is_preferred_over_basic_when_both_are_offered_in_one_header()
    {
        var challenge = AuthChallenge.Select(["Basic realm=\"registry\", Bearer realm=\"https://a/token\", service=\"s\""]);

        Assert.True(challenge!.IsBearer);
        Assert.Equal("s", challenge.Service);
    }

    [Fact]
    public void Bearer_is_preferred_over_basic_across_headers()
    {
        var challenge = AuthChallenge.Select(["Basic realm=\"registry\"", "Bearer realm=\"https://a/token\""]);

        Assert.True(challenge!.IsBearer);
    }

    [Fact]
    public void Quoted_values_may_hold_commas_and_escaped_quotes_and_names_ignore_case()
    {
        var challenge = AuthChallenge.Parse("bearer REALM=\"https://a/token?x=1,2\", error=\"say \\\"no\\\"\"").Single();

        Assert.True(challenge.IsBearer);
        Assert.Equal("https://a/token?x=1,2", challenge.Realm);
        Assert.Equal("say \"no\"", challenge.Parameter("error"));
    }

    [Fact]
    public void Unquoted_values_are_read_as_tokens()
    {
        var challenge = AuthChallenge.Parse("Basic realm=registry, charset=UTF-8").Single();

        Assert.True(challenge.IsBasic);
        Assert.Equal("registry", challenge.Realm);
        Assert.Equal("UTF-8", challenge.Parameter("charset"));
    }

    [Theory]
    [InlineData("Negotiate")]
    [InlineData("Bearer service=\"no-realm\"")]
    [InlineData("")]
    public void Challenges_this_client_cannot_answer_are_not_selected(string header)
    {
        Assert.Null(AuthChallenge.Select([header]));
    }
}
