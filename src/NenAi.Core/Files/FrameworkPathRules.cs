using System;
using System.Collections.Generic;
using System.IO;

namespace NenAi.Core.Files
{
    /// <summary>
    /// .NET Framework's own path rules, as data, so that tests on .NET 10 run what Windows PowerShell 5.1 does. Read from
    /// the reference source (microsoft/referencesource, mscorlib):
    /// <list type="bullet">
    /// <item>system/io/pathinternal.cs: InvalidPathChars (lines 32-39: '"', '&lt;', '&gt;', '|', NUL and 1-31);
    /// MaxShortPath = 260 and MaxShortDirectoryPath = 248 (lines 23-24); IsPathTooLong (102-114) refuses a path of 260
    /// or more and IsDirectoryTooLong (143-153) a folder of 248 or more when BlockLongPaths is on.</item>
    /// <item>system/io/path.cs: IsPathRooted (1186-1188), Combine (1196-1202) and GetDirectoryName (156-159) call
    /// CheckInvalidPathChars (1388-1395), which throws ArgumentException ("Illegal characters in path.") for any of
    /// them; GetFullPath goes through NormalizePath (374-377: at most 260 when BlockLongPaths, else 32767); with
    /// UseLegacyPathHandling (397-401) LegacyNormalizePath refuses the same characters (518-523) and works in a
    /// MAX_PATH buffer (537-541), whose GetFullPathName throws PathTooLongException at 260 (pathhelper.cs 170, 207)
    /// whatever BlockLongPaths says, and the path reaches Win32 without the \\?\ prefix (CreateDirectory's 248; a
    /// Win32 ERROR_FILENAME_EXCED_RANGE is PathTooLongException, __error.cs 164-165).</item>
    /// <item>system/AppContext/AppContextDefaultValues.cs 39-58 and AppContextDefaultValues.Defaults.cs 56-60: a process
    /// that names no target framework (powershell.exe) gets 4.0 behaviour, both switches on; app.config or the registry
    /// (AppContextDefaultValues.DesktopOverrides.cs) may turn either off.</item>
    /// </list>
    /// The module's own checks (<see cref="Downloads.SafeFileName"/>, <see cref="PathLimit"/>) run first, so these
    /// exceptions are never what the user meets; where one still comes, <see cref="PathLimit"/> maps it to the module's id.
    /// </summary>
    public sealed class FrameworkPathRules
    {
        private static readonly char[] Invalid = BuildInvalidPathChars();

        /// <summary>PathInternal.InvalidPathChars: what every Path method of .NET Framework refuses with ArgumentException.</summary>
        public static readonly IReadOnlyList<char> InvalidPathChars = Array.AsReadOnly(Invalid);

        /// <summary>PathInternal.MaxShortPath: a file path of this many characters or more is too long.</summary>
        public const int MaxShortPath = 260;

        /// <summary>PathInternal.MaxShortDirectoryPath: a folder path of this many characters or more is too long.</summary>
        public const int MaxShortDirectoryPath = 248;

        public const string BlockLongPathsSwitch = "Switch.System.IO.BlockLongPaths";
        public const string UseLegacyPathHandlingSwitch = "Switch.System.IO.UseLegacyPathHandling";

        private FrameworkPathRules(bool blockLongPaths, bool useLegacyPathHandling)
        {
            BlockLongPaths = blockLongPaths;
            UseLegacyPathHandling = useLegacyPathHandling;
        }

        public bool BlockLongPaths { get; }
        public bool UseLegacyPathHandling { get; }

        public static FrameworkPathRules For(bool blockLongPaths, bool useLegacyPathHandling) => new FrameworkPathRules(blockLongPaths, useLegacyPathHandling);

        /// <summary>powershell.exe as shipped: no target framework, so both switches on.</summary>
        public static FrameworkPathRules WindowsPowerShell { get; } = For(blockLongPaths: true, useLegacyPathHandling: true);

        /// <summary>The MAX_PATH limit holds when either switch is on (only both off gives .NET Framework long paths).</summary>
        public bool LimitsLength => BlockLongPaths || UseLegacyPathHandling;

        /// <summary>The longest paths the module may write under these rules.</summary>
        public PathLimit Limit => LimitsLength ? PathLimit.MaxPath : PathLimit.None;

        /// <summary>A character PathInternal.InvalidPathChars holds, or null.</summary>
        public static char? InvalidCharIn(string path)
        {
            int at = path.IndexOfAny(Invalid);
            return at < 0 ? null : path[at];
        }

        /// <summary>
        /// What Path.IsPathRooted, Path.Combine or Path.GetDirectoryName of .NET Framework throws for
        /// <paramref name="path"/> under these rules, or null when it throws nothing. (GetDirectoryName also normalises:
        /// the length rule of <see cref="GetFullPathThrows"/> applies to it.)
        /// </summary>
        public Exception? CharacterCheckThrows(string path) =>
            InvalidCharIn(path) is null ? null : new ArgumentException("Illegal characters in path.");

        /// <summary>
        /// What Path.GetFullPath (and Path.GetDirectoryName) of .NET Framework throws for <paramref name="path"/>, or null:
        /// for an illegal character, or for a path of 260 characters or more once it is full (relative paths are resolved
        /// first: pass the full path).
        /// </summary>
        public Exception? GetFullPathThrows(string path) =>
            CharacterCheckThrows(path)
            ?? (LimitsLength && path.Length >= MaxShortPath ? new PathTooLongException("The specified path, file name, or both are too long. The fully qualified file name must be less than 260 characters, and the directory name must be less than 248 characters.") : null);

        /// <summary>What Directory.CreateDirectory of .NET Framework throws for a full folder path, or null.</summary>
        public Exception? CreateDirectoryThrows(string folder) =>
            GetFullPathThrows(folder)
            ?? (LimitsLength && folder.Length >= MaxShortDirectoryPath ? new PathTooLongException("The specified path, file name, or both are too long. The fully qualified file name must be less than 260 characters, and the directory name must be less than 248 characters.") : null);

        private static char[] BuildInvalidPathChars()
        {
            var chars = new List<char> { '"', '<', '>', '|', '\0' };
            for (char c = (char)1; c <= (char)31; c++) chars.Add(c);
            return chars.ToArray();
        }
    }
}
