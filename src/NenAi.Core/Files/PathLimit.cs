using System;
using NenAi.Core.Errors;

namespace NenAi.Core.Files
{
    /// <summary>
    /// How long a full path this process can write. .NET Framework in powershell.exe (which names no target framework,
    /// so the 4.0 compatibility switches apply) has Switch.System.IO.BlockLongPaths on: a file path of 260 characters
    /// or more, or a folder path of 248 or more, throws PathTooLongException whatever LongPathsEnabled says
    /// (mscorlib PathInternal.IsPathTooLong / IsDirectoryTooLong). PowerShell 7 (.NET) has no such limit. Checked
    /// before anything is written, so a long name is one clear error and never a half-written file.
    /// </summary>
    public sealed class PathLimit
    {
        /// <summary>No limit beyond the file system's own.</summary>
        public static readonly PathLimit None = new PathLimit(int.MaxValue, int.MaxValue);
        /// <summary>MAX_PATH as .NET Framework enforces it: files below 260 characters, folders below 248.</summary>
        public static readonly PathLimit MaxPath = new PathLimit(259, 247);

        private PathLimit(int maxFile, int maxFolder)
        {
            MaxFile = maxFile;
            MaxFolder = maxFolder;
        }

        public int MaxFile { get; }
        public int MaxFolder { get; }

        /// <param name="longPathsBlocked">.NET Framework's Switch.System.IO.BlockLongPaths for this process.</param>
        public static PathLimit For(bool longPathsBlocked) => longPathsBlocked ? MaxPath : None;

        /// <summary>This process's limit: on .NET Framework the switch as the runtime resolved it (defaults, app.config, registry).</summary>
        public static PathLimit ForThisProcess()
        {
#if NETFRAMEWORK
            return For(AppContext.TryGetSwitch("Switch.System.IO.BlockLongPaths", out bool blocked) && blocked);
#else
            return None;
#endif
        }

        /// <summary>Throws <see cref="NenErrorIds.PathTooLong"/> when <paramref name="fullPath"/> is too long to write.</summary>
        /// <param name="what">What the path is for, as the message names it ("the result 'x' of run y").</param>
        public void Check(string fullPath, bool folder, string what)
        {
            int max = folder ? MaxFolder : MaxFile;
            if (fullPath.Length <= max) return;
            throw new NenException(NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded,
                $"Cannot write {what}: its path is {fullPath.Length} characters and Windows PowerShell 5.1 (.NET Framework) allows at most {max} for a {(folder ? "folder" : "file")} ('{Shortened(fullPath)}'). Choose a shorter -Destination or -JournalPath (such as C:\\nen), or use PowerShell 7.");
        }

        private static string Shortened(string path) => path.Length <= 80 ? path : path.Substring(0, 38) + "..." + path.Substring(path.Length - 38);
    }
}
