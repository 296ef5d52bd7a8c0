using System;
using System.IO;
using NenAi.Core.Errors;

namespace NenAi.Core.Files
{
    /// <summary>
    /// How long a full path this process can write, and the module's one way to ask the runtime for a full path or a
    /// parent folder. .NET Framework in powershell.exe (which names no target framework, so the 4.0 compatibility
    /// switches apply) refuses a file path of 260 characters or more, or a folder path of 248 or more, whatever
    /// LongPathsEnabled says, when Switch.System.IO.BlockLongPaths or Switch.System.IO.UseLegacyPathHandling is on
    /// (<see cref="FrameworkPathRules"/> has the rules and their reference-source lines). PowerShell 7 (.NET) has no
    /// such limit. Checked before anything is written, and before any path method that would throw for the length; what
    /// such a method throws all the same (a relative path, an illegal character in the user's own path) is one clear
    /// error too (<see cref="NenErrorIds.PathTooLong"/>, or the caller's id for an illegal character), never a raw
    /// PathTooLongException or ArgumentException, and never a half-written file. (Names the service chooses have their
    /// characters checked before any path method sees them: <see cref="Downloads.SafeFileName.Problem"/>.)
    /// </summary>
    public sealed class PathLimit
    {
        /// <summary>No limit beyond the file system's own.</summary>
        public static readonly PathLimit None = new PathLimit(int.MaxValue, int.MaxValue);
        /// <summary>MAX_PATH as .NET Framework enforces it: files below 260 characters, folders below 248.</summary>
        public static readonly PathLimit MaxPath = new PathLimit(FrameworkPathRules.MaxShortPath - 1, FrameworkPathRules.MaxShortDirectoryPath - 1);

        private readonly Func<string, string> _getFullPath;
        private readonly Func<string, string?> _getDirectoryName;

        private PathLimit(int maxFile, int maxFolder, Func<string, string>? getFullPath = null, Func<string, string?>? getDirectoryName = null)
        {
            MaxFile = maxFile;
            MaxFolder = maxFolder;
            _getFullPath = getFullPath ?? Path.GetFullPath;
            _getDirectoryName = getDirectoryName ?? Path.GetDirectoryName;
        }

        public int MaxFile { get; }
        public int MaxFolder { get; }

        /// <param name="blockLongPaths">.NET Framework's Switch.System.IO.BlockLongPaths for this process.</param>
        /// <param name="useLegacyPathHandling">.NET Framework's Switch.System.IO.UseLegacyPathHandling for this process.</param>
        public static PathLimit For(bool blockLongPaths, bool useLegacyPathHandling) => FrameworkPathRules.For(blockLongPaths, useLegacyPathHandling).Limit;

        /// <summary>This process's limit: on .NET Framework both switches as the runtime resolved them (defaults, app.config, registry).</summary>
        public static PathLimit ForThisProcess()
        {
#if NETFRAMEWORK
            return For(Switch(FrameworkPathRules.BlockLongPathsSwitch), Switch(FrameworkPathRules.UseLegacyPathHandlingSwitch));
#else
            return None;
#endif
        }

#if NETFRAMEWORK
        private static bool Switch(string name) => AppContext.TryGetSwitch(name, out bool on) && on;
#endif

        /// <summary>
        /// The limit of <paramref name="rules"/>, whose path methods throw what .NET Framework's throw under them
        /// (<see cref="FrameworkPathRules.GetFullPathThrows"/>), before doing what this runtime's do: so tests on .NET 10
        /// run the module's code as Windows PowerShell 5.1 runs it. <paramref name="thrown"/> hears of every such throw.
        /// </summary>
        internal static PathLimit AsOnNetFramework(FrameworkPathRules rules, Action<Exception>? thrown = null)
        {
            Exception Thrown(Exception ex)
            {
                thrown?.Invoke(ex);
                return ex;
            }
            // GetFullPath refuses an illegal character in what it is given, and a full path (as it resolves it) too long.
            string GetFullPath(string path)
            {
                if (rules.CharacterCheckThrows(path) is Exception illegal) throw Thrown(illegal);
                string full = Path.GetFullPath(path);
                if (rules.GetFullPathThrows(full) is Exception tooLong) throw Thrown(tooLong);
                return full;
            }
            // GetDirectoryName checks the characters, then normalises what it is given (path.cs 156-173).
            string? GetDirectoryName(string path)
            {
                if (rules.GetFullPathThrows(path) is Exception refused) throw Thrown(refused);
                return Path.GetDirectoryName(path);
            }
            PathLimit limit = rules.Limit;
            return new PathLimit(limit.MaxFile, limit.MaxFolder, GetFullPath, GetDirectoryName);
        }

        /// <summary>Throws <see cref="NenErrorIds.PathTooLong"/> when <paramref name="fullPath"/> is too long to write.</summary>
        /// <param name="what">What the path is for, as the message names it ("the result 'x' of run y").</param>
        public void Check(string fullPath, bool folder, string what)
        {
            int max = folder ? MaxFolder : MaxFile;
            if (fullPath.Length <= max) return;
            throw TooLong(fullPath, folder, what, max, null);
        }

        /// <summary>
        /// Throws <see cref="NenErrorIds.PathTooLong"/> when the folder <paramref name="fullPath"/> must be created and is
        /// too long for that: .NET Framework's Directory.CreateDirectory refuses a folder of 248 or more that is not there
        /// yet (directory.cs 326-327), though files of up to 259 characters open in one that is.
        /// </summary>
        public void CheckFolderToCreate(string fullPath, string what)
        {
            if (fullPath.Length > MaxFolder && !Directory.Exists(fullPath)) Check(fullPath, folder: true, what);
        }

        /// <summary>
        /// The full path of <paramref name="path"/>: a path that is already rooted is checked against the limit first;
        /// then Path.GetFullPath, whose refusals (too long, an illegal character) become the module's errors
        /// (<see cref="Refusal"/>), and the result is checked too.
        /// </summary>
        /// <param name="illegalId">The error for a character no path may hold: <see cref="NenErrorIds.UnsafeFileName"/>
        /// for a name the service chose, <see cref="NenErrorIds.InvalidPath"/> for the user's own path.</param>
        public string FullPath(string path, bool folder, string what, string illegalId = NenErrorIds.InvalidPath)
        {
            if (IsRooted(path)) Check(path, folder, what);
            string full;
            try
            {
                full = _getFullPath(path);
            }
            catch (Exception ex) when (Refusal(ex, path, folder, what, illegalId) is NenException refused)
            {
                throw refused;
            }
            Check(full, folder, what);
            return full;
        }

        /// <summary>The folder <paramref name="fullPath"/> is in (Path.GetDirectoryName), its refusals mapped as <see cref="FullPath"/> maps them.</summary>
        public string? FolderOf(string fullPath, string what, string illegalId = NenErrorIds.InvalidPath)
        {
            Check(fullPath, folder: false, what);
            try
            {
                return _getDirectoryName(fullPath);
            }
            catch (Exception ex) when (Refusal(ex, fullPath, false, what, illegalId) is NenException refused)
            {
                throw refused;
            }
        }

        /// <summary>
        /// The module's error for what a .NET Framework path method threw: PathTooLongException is
        /// <see cref="NenErrorIds.PathTooLong"/>; ArgumentException (an illegal character) and NotSupportedException (a
        /// colon where none may be) are <paramref name="illegalId"/>; anything else is not a refusal of the path (null).
        /// </summary>
        public NenException? Refusal(Exception ex, string path, bool folder, string what, string illegalId = NenErrorIds.InvalidPath)
        {
            if (ex is PathTooLongException) return TooLong(path, folder, what, folder ? MaxFolder : MaxFile, ex);
            if (ex is ArgumentException || ex is NotSupportedException) return Illegal(what, illegalId, ex.Message, ex);
            return null;
        }

        private static NenException Illegal(string what, string illegalId, string reason, Exception? inner) =>
            new NenException(illegalId, illegalId == NenErrorIds.UnsafeFileName ? NenErrorCategory.SecurityError : NenErrorCategory.InvalidArgument,
                $"Cannot use {what}: its path holds a character no path may hold here ({reason.TrimEnd('.')}).", inner);

        private static NenException TooLong(string path, bool folder, string what, int max, Exception? inner)
        {
            if (max == int.MaxValue) max = folder ? MaxPath.MaxFolder : MaxPath.MaxFile; // the runtime refused a path this limit allows: say .NET Framework's
            return new NenException(NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded,
                $"Cannot write {what}: its path is {path.Length} characters and Windows PowerShell 5.1 (.NET Framework) allows at most {max} for a {(folder ? "folder" : "file")} ('{Shortened(path)}'). Choose a shorter -Destination, -JournalPath or -StatePath (such as C:\\nen), or use PowerShell 7.", inner);
        }

        /// <summary>Rooted as Windows and Unix both read it: a separator first, or a drive letter and colon.</summary>
        private static bool IsRooted(string path) =>
            path.Length > 0 && (path[0] == '\\' || path[0] == '/' || (path.Length >= 2 && path[1] == ':'));

        private static string Shortened(string path) => path.Length <= 80 ? path : path.Substring(0, 38) + "..." + path.Substring(path.Length - 38);
    }
}
