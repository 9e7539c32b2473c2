using System.Net;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Testing;

public sealed class TokenServerTests
{
    private static readonly NetworkCredential Pusher = new("pusher", "push-secret");
    private static readonly NetworkCredential Reader = new("reader", "read-secret");

    private static AccessPolicy Policy() => new AccessPolicy()
        .WithUser(Pusher.UserName, Pusher.Password)
        .WithUser(Reader.UserName, Reader.Password)
        .Grant(Pusher.UserName, "*", RepositoryAccess.Pull, RepositoryAccess.Push)
        .Grant(Reader.UserName, "private/*", RepositoryAccess.Pull)
        .WithPublicRepository("library/*");

    [Fact]
    public async Task An_anonymous_request_is_challenged_and_a_token_from_the_server_is_accepted()
    {
        await using var tokens = await TokenServer.StartAsync(Policy());
        await using var registry = await RegistryProcess.StartAsync(tokens);
        using var builder = new OciImageBuilder(seed: 21);
        var image = await builder.BuildAsync("library/app", "1", [4 * OciImageBuilder.KiB]);
        await OciPusher.For(registry, Pusher).PushAsync(image);

        using var http = new HttpClient { BaseAddress = registry.BaseUri };
        using var anonymous = await http.GetAsync("/v2/library/app/blobs/" + image.Layers[0].Digest);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var challenge = anonymous.Headers.WwwAuthenticate.Single();
        Assert.Equal("Bearer", challenge.Scheme);
        var parsed = BearerChallenge.Parse(challenge.Parameter!);
        Assert.Equal(tokens.Realm.ToString(), parsed.Realm);
        Assert.Equal(tokens.Service, parsed.Service);
        Assert.Equal("repository:library/app:pull", parsed.Scope);

        Assert.Contains(await registry.RequestsAsync(), r => r.Status == 401 && r.IsBlob(image.Layers[0].Digest));

        using var client = new DistributionClient(registry.BaseUri);
        using var blob = await client.GetBlobAsync("library/app", image.Layers[0].Digest);
        Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
        Assert.Equal(image.Layers[0].ReadAllBytes(), await blob.Content.ReadAsByteArrayAsync());
        using var manifest = await client.GetManifestAsync("library/app", "1");
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);

        // One token for the pull scope, reused for the second request; the anonymous one carried no user.
        var pull = Assert.Single(tokens.Requests(), r => r.Scopes.Contains("repository:library/app:pull"));
        Assert.Null(pull.User);
        Assert.Equal(["pull"], pull.Granted.Single().Actions);
        var push = Assert.Single(tokens.Requests(), r => r.Scopes.Contains("repository:library/app:pull,push"));
        Assert.Equal(Pusher.UserName, push.User);
        Assert.Equal(["pull", "push"], push.Granted.Single().Actions);
    }

    [Fact]
    public async Task A_private_repository_refuses_an_anonymous_token_and_admits_a_granted_user()
    {
        await using var tokens = await TokenServer.StartAsync(Policy());
        await using var registry = await RegistryProcess.StartAsync(tokens);
        using var builder = new OciImageBuilder(seed: 22);
        var image = await builder.BuildAsync("private/secret", "1", [4 * OciImageBuilder.KiB]);
        await OciPusher.For(registry, Pusher).PushAsync(image);

        using var anonymous = new DistributionClient(registry.BaseUri);
        using var refused = await anonymous.GetManifestAsync("private/secret", "1");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains(tokens.Requests(), r => r.User is null && r.Scopes.Contains("repository:private/secret:pull") && r.Granted.Count == 0);

        using var reader = new DistributionClient(registry.BaseUri, Reader);
        using var admitted = await reader.GetManifestAsync("private/secret", "1");
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        Assert.Equal(1, tokens.CountRequests("repository:private/secret:pull", Reader.UserName));
    }

    [Fact]
    public async Task Wrong_credentials_get_no_token()
    {
        await using var tokens = await TokenServer.StartAsync(Policy());
        await using var registry = await RegistryProcess.StartAsync(tokens);
        using var client = new DistributionClient(registry.BaseUri, new NetworkCredential(Reader.UserName, "wrong"));

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetManifestAsync("private/secret", "1"));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal(401, tokens.Requests().Single().Status);
    }

    [Fact]
    public async Task The_token_server_admin_seeds_images_without_a_grant_in_the_policy()
    {
        await using var tokens = await TokenServer.StartAsync(new AccessPolicy());
        await using var registry = await RegistryProcess.StartAsync(tokens);
        using var builder = new OciImageBuilder(seed: 24);
        var image = await builder.BuildAsync("private/seeded", "1", [4 * OciImageBuilder.KiB]);

        await OciPusher.For(registry).PushAsync(image);

        Assert.Equal(1, tokens.CountRequests("repository:private/seeded:pull,push", tokens.Admin.UserName));
        Assert.Equal(1, await registry.CountManifestRequestsAsync("1", "PUT"));
    }

    [Fact]
    public async Task A_user_without_push_rights_cannot_push()
    {
        await using var tokens = await TokenServer.StartAsync(Policy());
        await using var registry = await RegistryProcess.StartAsync(tokens);
        using var builder = new OciImageBuilder(seed: 23);
        var image = await builder.BuildAsync("private/readonly", "1", [4 * OciImageBuilder.KiB]);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => OciPusher.For(registry, Reader).PushAsync(image));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
    }

    [Fact]
    public async Task The_token_response_announces_the_configured_lifetime()
    {
        await using var tokens = await TokenServer.StartAsync(Policy());
        tokens.TokenLifetime = TimeSpan.FromSeconds(90);
        using var http = new HttpClient();

        var body = await http.GetStringAsync(new Uri(tokens.Realm, $"?service={tokens.Service}&scope=repository:library/app:pull"));

        using var json = System.Text.Json.JsonDocument.Parse(body);
        Assert.Equal(90, json.RootElement.GetProperty("expires_in").GetInt32());
        Assert.Equal(json.RootElement.GetProperty("token").GetString(), json.RootElement.GetProperty("access_token").GetString());
        Assert.True(json.RootElement.TryGetProperty("issued_at", out _));
    }
}
