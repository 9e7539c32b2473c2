namespace NodeCache.Oci;

/// <summary>The error codes of the distribution spec (and the reference registry's UNAVAILABLE) that a mirror answers with.</summary>
public static class OciErrorCode
{
    public const string BlobUnknown = "BLOB_UNKNOWN";
    public const string ManifestUnknown = "MANIFEST_UNKNOWN";
    public const string ManifestInvalid = "MANIFEST_INVALID";
    public const string NameInvalid = "NAME_INVALID";
    public const string NameUnknown = "NAME_UNKNOWN";
    public const string DigestInvalid = "DIGEST_INVALID";
    public const string Unauthorized = "UNAUTHORIZED";
    public const string Denied = "DENIED";
    public const string TooManyRequests = "TOOMANYREQUESTS";
    public const string Unsupported = "UNSUPPORTED";
    public const string RangeInvalid = "RANGE_INVALID";
    public const string Unavailable = "UNAVAILABLE";
    public const string Unknown = "UNKNOWN";
}
