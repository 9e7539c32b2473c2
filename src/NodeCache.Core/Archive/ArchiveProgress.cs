namespace NodeCache.Archive;

/// <summary>How far an import or export is: the stage (<c>reading</c>, <c>verifying</c>, <c>committing</c>, <c>writing</c>), files and bytes so far.</summary>
public readonly record struct ArchiveProgress(string Stage, int Files, long Bytes);
