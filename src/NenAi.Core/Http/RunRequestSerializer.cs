using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using NenAi.Core.Errors;
using NenAi.Core.Models;

namespace NenAi.Core.Http
{
    /// <summary>
    /// Serialises a <see cref="RunRequest"/> once into the snake_case POST /runs body. The same bytes are
    /// hashed for the signature and sent; nothing is re-serialised.
    /// </summary>
    public static class RunRequestSerializer
    {
        /// <summary>The emulator (and, we assume, the service) refuses bodies above 1 MiB with 413.</summary>
        public const int MaxBodyBytes = 1024 * 1024;
        private const int MaxDepth = 32;

        private static readonly JsonWriterOptions WriterOptions = new JsonWriterOptions
        {
            // Keep non-ASCII readable; the bytes are hashed as sent, so any escaping is equally valid.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            Indented = false,
        };

        /// <summary>Validates before anything is sent: GUID workflow id, sane names, encodable values, size.</summary>
        public static ZeroingBufferWriter Serialize(RunRequest request)
        {
            ValidateWorkflowId(request.WorkflowId);
            var buffer = new ZeroingBufferWriter(256);
            try
            {
                using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
                {
                    writer.WriteStartObject();
                    writer.WriteString("workflow_id", request.WorkflowId.Trim());
                    writer.WritePropertyName("workflow_params");
                    writer.WriteStartObject();
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var pair in request.Parameters)
                    {
                        ValidateName(pair.Key, seen, NenErrorIds.InvalidParameterName);
                        WriteProperty(writer, pair.Key, pair.Value);
                    }
                    writer.WriteEndObject();

                    if (request.SecureParameters.Count > 0)
                    {
                        writer.WritePropertyName("secure_workflow_params");
                        writer.WriteStartObject();
                        var seenSecure = new HashSet<string>(StringComparer.Ordinal);
                        foreach (var pair in request.SecureParameters)
                        {
                            ValidateName(pair.Key, seenSecure, NenErrorIds.InvalidSecureParameter);
                            string name = pair.Key;
                            try
                            {
                                pair.Value.UseChars(chars =>
                                {
                                    if (!IsWellFormedUtf16(chars)) throw new ArgumentException("lone surrogate");
                                    writer.WriteString(name, chars.AsSpan());
                                    return 0;
                                });
                            }
                            catch (ArgumentException ex)
                            {
                                // The message names the field only: the value is secret.
                                throw new NenException(NenErrorIds.InvalidSecureParameter, NenErrorCategory.InvalidData,
                                    $"The secure parameter '{name}' is not valid UTF-16 text and cannot be sent.", ex);
                            }
                        }
                        writer.WriteEndObject();
                    }

                    if (request.WebhookCallback != null)
                    {
                        writer.WriteString("webhook_callback", request.WebhookCallback.AbsoluteUri);
                    }
                    writer.WriteEndObject();
                    writer.Flush();
                }
                if (buffer.WrittenCount > MaxBodyBytes)
                {
                    throw new NenException(NenErrorIds.RequestTooLarge, NenErrorCategory.LimitsExceeded,
                        $"The request body would be {buffer.WrittenCount:N0} bytes; the limit is {MaxBodyBytes:N0}. Shorten the largest parameter values.");
                }
                return buffer;
            }
            catch
            {
                buffer.Dispose();
                throw;
            }
        }

        public static void ValidateWorkflowId(string? workflowId)
        {
            if (string.IsNullOrWhiteSpace(workflowId))
                throw new NenException(NenErrorIds.InvalidWorkflowId, NenErrorCategory.InvalidArgument, "The workflow id is empty.");
            if (!Guid.TryParseExact(workflowId!.Trim(), "D", out _))
                throw new NenException(NenErrorIds.InvalidWorkflowId, NenErrorCategory.InvalidArgument,
                    $"The workflow id '{Shorten(workflowId)}' is not a GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).");
        }

        private static void ValidateName(string? name, HashSet<string> seen, string errorId)
        {
            if (string.IsNullOrWhiteSpace(name))
                throw new NenException(errorId, NenErrorCategory.InvalidArgument, "A parameter name is empty.");
            if (!seen.Add(name!))
                throw new NenException(errorId, NenErrorCategory.InvalidArgument, $"The parameter '{name}' is given twice.");
        }

        private static void WriteProperty(Utf8JsonWriter writer, string name, object? value)
        {
            try
            {
                writer.WritePropertyName(name);
                WriteValue(writer, value, 0);
            }
            catch (ArgumentException ex)
            {
                throw new NenException(NenErrorIds.InvalidParameterValue, NenErrorCategory.InvalidData,
                    $"The parameter '{name}' holds text that is not valid Unicode (a lone surrogate) and cannot be sent as JSON.", ex);
            }
            catch (InvalidOperationException ex)
            {
                throw new NenException(NenErrorIds.InvalidParameterValue, NenErrorCategory.InvalidData,
                    $"The parameter '{name}' cannot be written as JSON: {ex.Message}", ex);
            }
        }

        /// <summary>Maps .NET values (as PowerShell hands them over) onto JSON.</summary>
        public static void WriteValue(Utf8JsonWriter writer, object? value, int depth)
        {
            if (depth > MaxDepth) throw new InvalidOperationException($"it nests deeper than {MaxDepth} levels");
            switch (value)
            {
                case null: writer.WriteNullValue(); return;
                case string s:
                    if (!IsWellFormedUtf16(s.AsSpan())) throw new ArgumentException("lone surrogate");
                    writer.WriteStringValue(s);
                    return;
                case char c: writer.WriteStringValue(c.ToString()); return;
                case bool b: writer.WriteBooleanValue(b); return;
                case byte or sbyte or short or ushort or int: writer.WriteNumberValue(Convert.ToInt32(value, CultureInfo.InvariantCulture)); return;
                case uint or long: writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture)); return;
                case ulong ul: writer.WriteNumberValue(ul); return;
                case float f: WriteDouble(writer, f); return;
                case double d: WriteDouble(writer, d); return;
                case decimal m: writer.WriteNumberValue(m); return;
                case DateTime dt: writer.WriteStringValue(dt.ToString("o", CultureInfo.InvariantCulture)); return;
                case DateTimeOffset dto: writer.WriteStringValue(dto.ToString("o", CultureInfo.InvariantCulture)); return;
                case Guid g: writer.WriteStringValue(g.ToString("D")); return;
                case Enum e: writer.WriteStringValue(e.ToString()); return;
                case Uri u: writer.WriteStringValue(u.OriginalString); return;
                case IDictionary dict:
                    writer.WriteStartObject();
                    foreach (DictionaryEntry entry in dict)
                    {
                        writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty);
                        WriteValue(writer, entry.Value, depth + 1);
                    }
                    writer.WriteEndObject();
                    return;
                case IEnumerable<KeyValuePair<string, object?>> pairs:
                    writer.WriteStartObject();
                    foreach (var pair in pairs)
                    {
                        writer.WritePropertyName(pair.Key);
                        WriteValue(writer, pair.Value, depth + 1);
                    }
                    writer.WriteEndObject();
                    return;
                case IEnumerable list:
                    writer.WriteStartArray();
                    foreach (object? item in list) WriteValue(writer, item, depth + 1);
                    writer.WriteEndArray();
                    return;
                default:
                    writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                    return;
            }
        }

        /// <summary>A JSON writer would escape a lone surrogate silently; the service would then get garbage.</summary>
        public static bool IsWellFormedUtf16(ReadOnlySpan<char> text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (char.IsHighSurrogate(c))
                {
                    if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1])) return false;
                    i++;
                }
                else if (char.IsLowSurrogate(c)) return false;
            }
            return true;
        }

        private static void WriteDouble(Utf8JsonWriter writer, double d)
        {
            if (double.IsNaN(d) || double.IsInfinity(d)) throw new InvalidOperationException("NaN and infinity have no JSON form");
            writer.WriteNumberValue(d);
        }

        internal static string Shorten(string? text, int max = 64)
        {
            if (text is null) return string.Empty;
            return text.Length <= max ? text : text.Substring(0, max) + "...";
        }
    }
}
