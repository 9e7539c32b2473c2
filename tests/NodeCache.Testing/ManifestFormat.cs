using NodeCache.Oci;

namespace NodeCache.Testing;

/// <summary>Which family of media types an image is built with: OCI, or the Docker v2 schema 2 that older registries and Harbor replications still carry.</summary>
public enum ManifestFormat
{
    Oci,
    Docker,
}

public static class ManifestFormatMediaTypes
{
    public static string Manifest(this ManifestFormat format) =>
        format == ManifestFormat.Oci ? MediaTypes.OciManifest : MediaTypes.DockerManifest;

    public static string Index(this ManifestFormat format) =>
        format == ManifestFormat.Oci ? MediaTypes.OciIndex : MediaTypes.DockerManifestList;

    public static string Config(this ManifestFormat format) =>
        format == ManifestFormat.Oci ? "application/vnd.oci.image.config.v1+json" : "application/vnd.docker.container.image.v1+json";

    public static string Layer(this ManifestFormat format) =>
        format == ManifestFormat.Oci ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.docker.image.rootfs.diff.tar.gzip";
}
