using System;
using System.IO;
using NenAi.Core.Errors;

namespace NenAi.Core.Downloads
{
    /// <summary>
    /// Server-supplied names become local paths only after this check: no separators, no traversal, no
    /// rooted paths, no characters or device names Windows refuses, so a result folder is portable.
    /// </summary>
    public static class SafeFileName
    {
        private static readonly string[] ReservedDeviceNames =
        {
            "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
            "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
            "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
        };
        private const string ForbiddenChars = "<>:\"/\\|?*";
        public const int MaxLength = 255;

        /// <summary>Returns the reason a name is unsafe, or null when it is fine.</summary>
        public static string? Problem(string? name)
        {
            if (string.IsNullOrWhiteSpace(name)) return "the name is empty";
            if (name == "." || name == "..") return "the name is a relative directory reference";
            if (name!.Length > MaxLength) return $"the name is longer than {MaxLength} characters";
            if (Path.IsPathRooted(name) || name.StartsWith("/", StringComparison.Ordinal) || name.StartsWith("\\", StringComparison.Ordinal) || (name.Length >= 2 && name[1] == ':'))
                return "the name is an absolute path";
            foreach (char c in name)
            {
                if (c < 32 || c == 127) return "the name contains a control character";
                if (ForbiddenChars.IndexOf(c) >= 0) return $"the name contains '{c}', which is a path separator or not allowed in file names";
            }
            if (name.EndsWith(".", StringComparison.Ordinal) || name.EndsWith(" ", StringComparison.Ordinal))
                return "the name ends with a dot or a space";
            string stem = name.Split('.')[0].TrimEnd(' ');
            foreach (string reserved in ReservedDeviceNames)
            {
                if (string.Equals(stem, reserved, StringComparison.OrdinalIgnoreCase)) return $"'{reserved}' is a reserved device name on Windows";
            }
            return null;
        }

        public static string Validate(string? name, string what = "file")
        {
            string? problem = Problem(name);
            if (problem != null)
                throw new NenException(NenErrorIds.UnsafeFileName, NenErrorCategory.SecurityError,
                    $"Refusing the {what} name '{Printable(name)}': {problem}.");
            return name!;
        }

        /// <summary>Joins a validated name under <paramref name="directory"/>, and checks the result stays inside it.</summary>
        public static string Combine(string directory, string name)
        {
            Validate(name);
            string root = Path.GetFullPath(directory);
            string full = Path.GetFullPath(Path.Combine(root, name));
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
            return text.Length > 80 ? text.Substring(0, 80) + "…" : text;
        }
    }
}
