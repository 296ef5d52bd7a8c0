using System;
using System.IO;
using System.Management.Automation;
using NenAi.Core.Downloads;

namespace NenAi
{
    /// <summary>
    /// One result file on disk, as Get-NenRunResult writes it (type NenAi.ResultFile): flat, so Export-Csv makes one
    /// readable column per property, and able to trace the file back to its run and input row.
    /// </summary>
    /// <remarks>
    /// The path is <see cref="FullName"/> (as on FileInfo), not "Path": Get-Item, Remove-Item, Copy-Item and
    /// Get-Content bind a Path property to -Path, which takes wildcards, so a result named "a[1].txt" would miss, or
    /// hit "a1.txt". The hidden <see cref="PSPath"/> binds to their -LiteralPath instead, as FileInfo's does.
    /// </remarks>
    public sealed class ResultFile
    {
        private const string FileSystemPrefix = @"Microsoft.PowerShell.Core\FileSystem::";

        internal ResultFile(DownloadedFile file, string? workflowId, string? rowKey, bool runSucceeded)
        {
            RunSucceeded = runSucceeded;
            MessageId = file.MessageId;
            RowKey = rowKey;
            WorkflowId = workflowId;
            Name = file.Name;
            FullName = file.Path;
            Length = file.Length;
            LastWriteTime = File.GetLastWriteTime(file.Path);
            ContentType = file.ContentType;
            Skipped = file.Skipped;
            Expanded = file.Expanded;
            Saved = file.Expanded ? SaveAction.Unpacked : file.Skipped ? SaveAction.Skipped : SaveAction.Downloaded;
        }

        /// <summary>The run the file belongs to.</summary>
        public string MessageId { get; }
        /// <summary>The row that started the run, as Start-NenRun's output named it: its -KeyProperty value, or "row 3".</summary>
        public string? RowKey { get; }
        public string? WorkflowId { get; }
        /// <summary>The file's name (for a file unpacked with -Expand, its name inside the archive's folder).</summary>
        public string Name { get; }
        /// <summary>The file's full path.</summary>
        public string FullName { get; }
        public long Length { get; }
        public DateTime LastWriteTime { get; }
        /// <summary>The media type the service gave the result; none for a file unpacked from an archive.</summary>
        public string? ContentType { get; }
        /// <summary>The file was already complete on disk and was not downloaded again.</summary>
        public bool Skipped { get; }
        /// <summary>The file was unpacked from a result archive (-Expand).</summary>
        public bool Expanded { get; }
        /// <summary>False for the files a failed run left (logs, partial results), saved before its NenRunFailed error.</summary>
        public bool RunSucceeded { get; }
        /// <summary>How the file came to be on disk: Downloaded, Skipped (already complete) or Unpacked (-Expand).</summary>
        public SaveAction Saved { get; }

        /// <summary>Binds to -LiteralPath of the provider cmdlets (its alias PSPath); hidden from Export-Csv and Get-Member.</summary>
        [Hidden]
        public string PSPath => FileSystemPrefix + FullName;

        public override string ToString() => FullName;
    }
}
