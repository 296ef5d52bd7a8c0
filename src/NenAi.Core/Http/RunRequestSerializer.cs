using System;
using System.Collections.Generic;
using System.Text.Encodings.Web;
using System.Text.Json;
using NenAi.Core.Errors;
using NenAi.Core.Models;
using NenAi.Core.Rows;

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

        private static readonly JsonWriterOptions WriterOptions = new JsonWriterOptions
        {
            // Keep non-ASCII readable; the bytes are hashed as sent, so any escaping is equally valid.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            Indented = false,
        };

        /// <summary>What every secure parameter's value is replaced with in <see cref="SerializeMasked"/>.</summary>
        public const string MaskedValue = "***";

        /// <summary>Validates before anything is sent: GUID workflow id, sane names, encodable values, size.</summary>
        public static ZeroingBufferWriter Serialize(RunRequest request) => Serialize(request, maskSecure: false);

        /// <summary>
        /// The body <see cref="Serialize"/> would send, with each secure parameter's value replaced by
        /// <see cref="MaskedValue"/> (its name stays): for a preview (-WhatIf -Verbose), never for sending. The checks are
        /// those of the body that would be sent (made, then wiped), so a row the preview shows is a row that would be sent:
        /// a secure value counts towards the size limit though the preview shows it as three characters.
        /// </summary>
        public static ZeroingBufferWriter SerializeMasked(RunRequest request)
        {
            Serialize(request, maskSecure: false).Dispose();
            return Serialize(request, maskSecure: true);
        }

        private static ZeroingBufferWriter Serialize(RunRequest request, bool maskSecure)
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
                                    if (maskSecure) writer.WriteString(name, MaskedValue);
                                    else writer.WriteString(name, chars.AsSpan());
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
                        // A callback's query string may carry a token of the receiver's: masked in a preview, as in logs.
                        writer.WriteString("webhook_callback", maskSecure ? Logging.Redactor.Url(request.WebhookCallback) : request.WebhookCallback.AbsoluteUri);
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

        /// <summary>
        /// A workflow id is a UUID in its 36-character form (8-4-4-4-12 hex digits, any case, any version: every id the
        /// API documents is one); surrounding spaces are trimmed. Anything else (a workflow's name, another GUID
        /// notation) is refused before anything is sent: <see cref="MalformedWorkflowIdException"/>.
        /// </summary>
        public static void ValidateWorkflowId(string? workflowId)
        {
            if (string.IsNullOrWhiteSpace(workflowId))
                throw new NenException(NenErrorIds.InvalidWorkflowId, NenErrorCategory.InvalidArgument, "The workflow id is empty.");
            if (!Guid.TryParseExact(workflowId!.Trim(), "D", out _)) throw new MalformedWorkflowIdException(workflowId.Trim(), Shorten(workflowId.Trim()));
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
            if (!IsWellFormedUtf16(name.AsSpan()))
                throw new NenException(NenErrorIds.InvalidParameterName, NenErrorCategory.InvalidData, "A parameter name is not valid Unicode (a lone surrogate).");
            writer.WritePropertyName(name);
            ParameterValues.Write(writer, name, value);
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

        internal static string Shorten(string? text, int max = 64)
        {
            if (text is null) return string.Empty;
            return text.Length <= max ? text : text.Substring(0, max) + "...";
        }
    }
}
