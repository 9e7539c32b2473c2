using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodeCache.Oci;

namespace NodeCache.Testing;

/// <summary>
/// A read-only registry on Kestrel (127.0.0.1, a free port) serving built images by tag and by digest, whatever their
/// digest algorithm: the distribution registry here mangles sha512 content, so sha512 images are served by this one.
/// It answers as the registry does (Docker-Content-Digest, Content-Length, the manifest's media type, 404 BLOB_UNKNOWN
/// or MANIFEST_UNKNOWN), counts blob GETs, and can send other bytes for a blob (<see cref="Tamper"/>).
/// </summary>
public sealed class StaticRegistry : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, BlobFile> _blobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BlobFile> _manifests = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BlobFile> _tags = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _blobGets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _tampered = new(StringComparer.Ordinal);

    private StaticRegistry(WebApplication app, IEnumerable<BuiltImage> images)
    {
        _app = app;
        foreach (var image in images)
        {
            foreach (var blob in (IEnumerable<BlobFile>)[image.Manifest, .. image.Blobs])
            {
                _blobs[$"{image.Repository}@{blob.Digest}"] = blob;
            }
            _manifests[$"{image.Repository}@{image.ManifestDigest}"] = image.Manifest;
            if (image.Tag is not null)
            {
                _tags[$"{image.Repository}:{image.Tag}"] = image.Manifest;
            }
        }
    }

    public Uri BaseUri { get; private set; } = null!;

    public static async Task<StaticRegistry> StartAsync(IEnumerable<BuiltImage> images)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        var registry = new StaticRegistry(app, images);
        app.Run(registry.AnswerAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        registry.BaseUri = new Uri(address);
        return registry;
    }

    /// <summary>GETs of the blob so far.</summary>
    public int CountBlobGets(Digest digest) => _blobGets.GetValueOrDefault(digest.ToString());

    /// <summary>From now on the blob's body has its middle byte flipped (same length), until <see cref="Mend"/>.</summary>
    public void Tamper(Digest digest) => _tampered[digest.ToString()] = true;

    public void Mend(Digest digest) => _tampered.TryRemove(digest.ToString(), out _);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private async Task AnswerAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var (name, kind, reference) = Split(path);
        var blob = kind switch
        {
            "blobs" => _blobs.GetValueOrDefault($"{name}@{reference}"),
            "manifests" when Digest.LooksLikeDigest(reference) => _manifests.GetValueOrDefault($"{name}@{reference}"),
            "manifests" => _tags.GetValueOrDefault($"{name}:{reference}"),
            _ => null,
        };
        if (blob is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            var code = kind == "blobs" ? "BLOB_UNKNOWN" : "MANIFEST_UNKNOWN";
            await context.Response.WriteAsJsonAsync(new { errors = new[] { new { code, message = $"{path} is unknown" } } });
            return;
        }
        var bytes = await File.ReadAllBytesAsync(blob.Path);
        if (kind == "blobs" && HttpMethods.IsGet(context.Request.Method))
        {
            _blobGets.AddOrUpdate(blob.Digest.ToString(), 1, (_, n) => n + 1);
            if (_tampered.ContainsKey(blob.Digest.ToString()))
            {
                bytes[bytes.Length / 2] ^= 0xFF;
            }
        }
        context.Response.ContentType = kind == "manifests" ? blob.MediaType : "application/octet-stream";
        context.Response.ContentLength = bytes.Length;
        context.Response.Headers["Docker-Content-Digest"] = blob.Digest.ToString();
        if (HttpMethods.IsGet(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(bytes);
        }
    }

    // /v2/<name>/<blobs|manifests>/<reference>: the name may hold slashes, the last two segments never do.
    private static (string Name, string Kind, string Reference) Split(string path)
    {
        var parts = path.Split('/');
        return parts.Length >= 5 && parts[1] == "v2"
            ? (string.Join('/', parts[2..^2]), parts[^2], parts[^1])
            : ("", "", "");
    }
}
