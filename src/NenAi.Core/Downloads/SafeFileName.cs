using System;
using System.Collections.Generic;
using System.IO;
using NenAi.Core.Errors;
using NenAi.Core.Files;

namespace NenAi.Core.Downloads
{
    /// <summary>
    /// Server-supplied names become local paths only after this check: no separators, no traversal, no
    /// rooted paths, no characters or device names Windows refuses, so a result folder is portable.
    /// </summary>
    public static class SafeFileName
    {
        /// <summary>
        /// Every name Windows maps to a device, with or without an extension: CON, PRN, AUX, NUL, CONIN$, CONOUT$,
        /// COM0-COM9 and LPT0-LPT9, and the superscript-digit ports COM¹ COM² COM³ LPT¹ LPT² LPT³ (U+00B9, U+00B2,
        /// U+00B3), which Windows also treats as devices.
        /// </summary>
        public static readonly IReadOnlyCollection<string> ReservedDeviceNames = DeviceNames();
        private static readonly HashSet<string> Reserved = new HashSet<string>(ReservedDeviceNames, StringComparer.OrdinalIgnoreCase);

        private static string[] DeviceNames()
        {
            var names = new List<string> { "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$" };
            foreach (string port in new[] { "COM", "LPT" })
            {
                for (char digit = '0'; digit <= '9'; digit++) names.Add(port + digit);
                foreach (char superscript in new[] { '\u00B9', '\u00B2', '\u00B3' }) names.Add(port + superscript);
            }
            return names.ToArray();
        }

        private const string ForbiddenChars = "<>:\"/\\|?*";
        public const int MaxLength = 255;

        /// <summary>
        /// Returns the reason a name is unsafe, or null when it is fine. A function of the string alone, calling no path
        /// method: .NET Framework's Path.IsPathRooted, Combine and GetFullPath throw ArgumentException for '"', '&lt;',
        /// '&gt;', '|' and control characters (<see cref="FrameworkPathRules.InvalidPathChars"/>), which would pre-empt
        /// this check on Windows PowerShell 5.1 with an error that is not <see cref="NenErrorIds.UnsafeFileName"/>.
        /// </summary>
        public static string? Problem(string? name)
        {
            if (string.IsNullOrWhiteSpace(name)) return "the name is empty";
            if (name == "." || name == "..") return "the name is a relative directory reference";
            if (name!.Length > MaxLength) return $"the name is longer than {MaxLength} characters";
            if (IsRooted(name)) return "the name is an absolute path";
            foreach (char c in name)
            {
                if (c < 32 || c == 127) return "the name contains a control character";
                // "a:b.txt" is no absolute path: its ':' is what is wrong, and says why.
                if (c == ':') return "the name contains ':', which Windows does not allow in a file name (it separates a drive or a stream)";
                if (ForbiddenChars.IndexOf(c) >= 0) return $"the name contains '{c}', which is a path separator or not allowed in file names";
            }
            if (name.EndsWith(".", StringComparison.Ordinal) || name.EndsWith(" ", StringComparison.Ordinal))
                return "the name ends with a dot or a space";
            // "nul.txt" and "CON .log" are the device too: what counts is the part before the first dot, spaces trimmed.
            string stem = name.Split('.')[0].TrimEnd(' ');
            if (Reserved.Contains(stem)) return $"'{stem}' is a reserved device name on Windows";
            return null;
        }

        /// <summary>
        /// A name that starts at a root: "/x", "\\x", or a drive and its root ("C:\\x", "C:/x"). "a:b.txt" and "C:" are not
        /// (they are refused for their ':').
        /// </summary>
        internal static bool IsRooted(string name) =>
            name.StartsWith("/", StringComparison.Ordinal) || name.StartsWith("\\", StringComparison.Ordinal) ||
            (name.Length >= 3 && name[1] == ':' && (name[2] == '/' || name[2] == '\\'));

        public static string Validate(string? name, string what = "file")
        {
            string? problem = Problem(name);
            if (problem != null)
                throw new NenException(NenErrorIds.UnsafeFileName, NenErrorCategory.SecurityError,
                    $"Refusing the {what} name '{Printable(name)}': {problem}.");
            return name!;
        }

        /// <summary>
        /// Joins a validated name under <paramref name="directory"/>, and checks the result stays inside it. The name's
        /// characters are checked first, and the joined path's length before any path method normalises it, so on
        /// Windows PowerShell 5.1 a bad name is <see cref="NenErrorIds.UnsafeFileName"/> and a long path
        /// <see cref="NenErrorIds.PathTooLong"/>, never .NET Framework's own ArgumentException or PathTooLongException.
        /// </summary>
        /// <param name="paths">The longest paths this process can write; null: <see cref="PathLimit.ForThisProcess"/>.</param>
        /// <param name="what">What the joined path is, as an error names it; null: the file's name.</param>
        /// <param name="folder">The joined path is a folder (.NET Framework's limit for folders is lower).</param>
        public static string Combine(string directory, string name, PathLimit? paths = null, string? what = null, bool folder = false)
        {
            Validate(name);
            PathLimit limit = paths ?? PathLimit.ForThisProcess();
            what ??= $"the file '{Printable(name)}'";
            string root = limit.FullPath(directory, folder: true, $"the folder '{directory}'");
            // A name without separators, dots of its own or illegal characters: Path.Combine neither throws nor normalises.
            string joined = Path.Combine(root, name);
            limit.Check(joined, folder, what);
            string full = limit.FullPath(joined, folder, what, NenErrorIds.UnsafeFileName);
            if (!IsInside(root, full))
                throw new NenException(NenErrorIds.UnsafeFileName, NenErrorCategory.SecurityError, $"Refusing the file name '{Printable(name)}': it leaves the destination folder.");
            return full;
        }

        public static bool IsInside(string root, string full)
        {
            string withSep = root.EndsWith(Path.DirectorySeparatorChar.ToString(), StringComparison.Ordinal) ? root : root + Path.DirectorySeparatorChar;
            StringComparison cmp = Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            return full.StartsWith(withSep, cmp);
        }

        internal static string Printable(string? name)
        {
            if (name is null) return string.Empty;
            var chars = name.ToCharArray();
            for (int i = 0; i < chars.Length; i++) if (chars[i] < 32 || chars[i] == 127) chars[i] = '?';
            string text = new string(chars);
            return text.Length > 80 ? text.Substring(0, 80) + "..." : text;
        }
    }
}
