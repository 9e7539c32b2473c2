using System.Net;
using System.Net.Http.Headers;

namespace NodeCache.Testing;

/// <summary>
/// Pushes built images with the distribution push API: blobs through an upload session (one monolithic PUT, or
/// PATCH chunks then a closing PUT for big ones), then the manifest with its media type. Token-auth registries are
/// handled by <see cref="DistributionClient"/>, which fetches a push token with the credentials it was given.
/// </summary>
public sealed class OciPusher(DistributionClient client)
{
    /// <summary>Blobs up to this size go up in one PUT; bigger ones in PATCH chunks of this size, as docker push does.</summary>
    public const int ChunkSize = 16 * 1024 * 1024;

    /// <summary>A pusher for the registry; on a token registry it pushes as the token server's admin unless given other credentials.</summary>
    public static OciPusher For(RegistryProcess registry, NetworkCredential? credentials = null) =>
        new(new DistributionClient(registry.BaseUri, credentials ?? registry.Tokens?.Admin, registry.CreateHandler()));

    public DistributionClient Client => client;

    public async Task PushAsync(BuiltImage image, CancellationToken cancellationToken = default)
    {
        foreach (var blob in image.Blobs)
        {
            await PushBlobAsync(image.Repository, blob, cancellationToken);
        }
        await PushManifestAsync(image.Repository, image.Tag ?? image.ManifestDigest.ToString(), image.Manifest, cancellationToken);
    }

    /// <summary>Each platform's image by digest, then the index under its tag: a registry refuses an index whose manifests it lacks.</summary>
    public async Task PushAsync(BuiltIndex index, CancellationToken cancellationToken = default)
    {
        foreach (var image in index.Images)
        {
            await PushAsync(image, cancellationToken);
        }
        await PushManifestAsync(index.Repository, index.Tag, index.Index, cancellationToken);
    }

    public async Task PushBlobAsync(string repository, BlobFile blob, CancellationToken cancellationToken = default)
    {
        var scope = DistributionClient.PushScope(repository);
        // Asked under the push scope, so that a push costs one token, as docker push does.
        using (var existing = await client.SendAsync(() => new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/blobs/{blob.Digest}"), scope, cancellationToken))
        {
            if (existing.StatusCode == HttpStatusCode.OK)
            {
                return;
            }
        }
        var location = await StartUploadAsync(repository, scope, cancellationToken);
        if (blob.Size <= ChunkSize)
        {
            var bytes = await File.ReadAllBytesAsync(blob.Path, cancellationToken);
            using var put = await client.SendAsync(
                () => new HttpRequestMessage(HttpMethod.Put, WithDigest(location, blob)) { Content = Octets(bytes, 0, bytes.Length) },
                scope,
                cancellationToken);
            await ExpectAsync(put, HttpStatusCode.Created, $"PUT blob {blob.Digest} to {repository}");
            return;
        }
        var buffer = new byte[ChunkSize];
        await using var file = blob.OpenRead();
        long offset = 0;
        while (offset < blob.Size)
        {
            var read = await file.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            var start = offset;
            using var patch = await client.SendAsync(
                () =>
                {
                    var content = Octets(buffer, 0, read);
                    // The registry's own form, without "bytes ": start-end, inclusive.
                    content.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + read - 1}");
                    return new HttpRequestMessage(HttpMethod.Patch, location) { Content = content };
                },
                scope,
                cancellationToken);
            await ExpectAsync(patch, HttpStatusCode.Accepted, $"PATCH chunk at {start} of blob {blob.Digest} to {repository}");
            location = ResolveLocation(patch);
            offset += read;
        }
        using var close = await client.SendAsync(() => new HttpRequestMessage(HttpMethod.Put, WithDigest(location, blob)), scope, cancellationToken);
        await ExpectAsync(close, HttpStatusCode.Created, $"closing PUT of blob {blob.Digest} to {repository}");
    }

    public async Task PushManifestAsync(string repository, string reference, BlobFile manifest, CancellationToken cancellationToken = default)
    {
        var bytes = await File.ReadAllBytesAsync(manifest.Path, cancellationToken);
        using var response = await client.SendAsync(
            () =>
            {
                var content = new ByteArrayContent(bytes);
                content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
                return new HttpRequestMessage(HttpMethod.Put, $"/v2/{repository}/manifests/{reference}") { Content = content };
            },
            DistributionClient.PushScope(repository),
            cancellationToken);
        await ExpectAsync(response, HttpStatusCode.Created, $"PUT manifest {repository}:{reference}");
    }

    private async Task<Uri> StartUploadAsync(string repository, string scope, CancellationToken cancellationToken)
    {
        using var response = await client.SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/"), scope, cancellationToken);
        await ExpectAsync(response, HttpStatusCode.Accepted, $"POST upload to {repository}");
        return ResolveLocation(response);
    }

    private Uri ResolveLocation(HttpResponseMessage response)
    {
        var location = response.Headers.Location ?? throw new InvalidOperationException($"{response.RequestMessage?.RequestUri} answered without a Location");
        return location.IsAbsoluteUri ? location : new Uri(client.BaseUri, location);
    }

    private static Uri WithDigest(Uri location, BlobFile blob) =>
        new(location.AbsoluteUri + (string.IsNullOrEmpty(location.Query) ? "?" : "&") + "digest=" + Uri.EscapeDataString(blob.Digest.ToString()));

    private static ByteArrayContent Octets(byte[] bytes, int offset, int count)
    {
        var content = new ByteArrayContent(bytes, offset, count);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    private static async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        if (response.StatusCode != expected)
        {
            var body = await response.Content.ReadAsStringAsync();
            throw new HttpRequestException($"{what}: expected {(int)expected}, got {(int)response.StatusCode}: {body}", null, response.StatusCode);
        }
    }
}
