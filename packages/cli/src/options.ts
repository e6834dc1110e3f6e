import { Command, CommanderError, InvalidArgumentError, Option, type ParseOptionsResult } from "commander";
import { DEFAULT_MTU_BYTES, HEADER_BYTES } from "@encstream/packet";
import { MAX_CAPACITY_FRAMES } from "@encstream/jitter";
import { MAX_OVERLAP_PERCENT, MIN_OVERLAP_PERCENT, percentToOverlapRatio } from "@encstream/ola";
import { DEFAULT_AUTO_MAX_FRAMES_PER_PACKET, DEFAULT_DTX_THRESHOLD_DB, MAX_FRAMES_PER_PACKET, MAX_LM_KEYFRAME_INTERVAL_FRAMES, STREAM_LM_KEYFRAME_INTERVAL_FRAMES } from "@encstream/session";
import { MAX_UDP_PAYLOAD_IPV4_BYTES } from "@encstream/transport-udp";
import { CODEC_PRECISIONS, type CodecPrecision } from "@encstream/codec";
import { version as packageVersion } from "../package.json";
import {
  DEFAULT_BANDWIDTH_KBPS,
  DEFAULT_BIND_ADDRESS,
  DEFAULT_BUFFER_MS,
  DEFAULT_LM_BASE_URL,
  DEFAULT_MULTICAST_TTL,
  MAX_BUFFER_MS,
  DEFAULT_OVERLAP_PERCENT,
  DEFAULT_PORT,
  DEFAULT_SEND_HOST,
  MAX_CHUNK_MS,
  MAX_IDLE_TIMEOUT_S,
  MIN_CHUNK_MS,
  MIN_MTU_BYTES,
} from "./constants.js";
import { CliError, isCliError } from "./errors.js";
import { parseWebAddress, type WebAddress } from "./web/web-address.js";
import type {
  BufferSize,
  CodingOptions,
  CommandHandlers,
  CommandName,
  ParsedCommandLine,
  ProgramOutput,
  SendOptions,
  StreamingOptions,
  SendTracksOptions,
} from "./command-options.js";
import type { OutputSampleFormat } from "./internal/pcm.js";
import { parseRawFormat, type RawFormat } from "./audio/raw-format.js";
import {
  integerIn,
  numberIn,
  parseAddress,
  parseAllowFrom,
  parseBandwidth,
  parseBaseUrl,
  parseBufferSize,
  parseFec,
  parseSendBandwidth,
  type AutoBandwidth,
  parseHost,
  parseModel,
  parsePath,
  parseRepoId,
  parseRevision,
} from "./internal/option-parsers.js";
import { MODEL_PRESETS, type BandwidthKbps, type ModelRef } from "./model-ref.js";

const DEFAULT_MODEL: ModelRef = { kind: "preset", preset: MODEL_PRESETS["24khz"] };
const CACHE_DIR_DEFAULT = "$ENCSTREAM_CACHE_DIR, else ~/.cache/encstream";
const SEED_MODES = ["send", "receive"] as const;

/**
 * The root command: `--mode send|receive` anywhere on the line (the seed's form) is rewritten to
 * the `send`/`receive` subcommand before commander parses it.
 */
class EncstreamCommand extends Command {
  override parseOptions(args: string[]): ParseOptionsResult {
    return super.parseOptions(rewriteSeedMode(args, this));
  }
}

/** `[..., "--mode", "send", ...]` → `["send", ...]` unless a subcommand already comes first. */
function rewriteSeedMode(args: readonly string[], root: Command): string[] {
  const first = args[0];
  if (first === undefined || first === "help" || root.commands.some((c) => c.name() === first)) return [...args];
  const end = args.includes("--") ? args.indexOf("--") : args.length;
  for (let i = 0; i < end; i++) {
    const arg = args[i] as string;
    const inline = arg.startsWith("--mode=");
    if (arg !== "--mode" && !inline) continue;
    const mode = inline ? arg.slice("--mode=".length) : args[i + 1];
    // An invalid or missing value is left for the root's --mode option to report.
    if (!SEED_MODES.includes(mode as (typeof SEED_MODES)[number])) return [...args];
    return [mode as string, ...args.slice(0, i), ...args.slice(i + (inline ? 1 : 2))];
  }
  return [...args];
}

/**
 * Builds the `encstream` command line (commander 14): the `send`, `receive`, `encode`, `decode`
 * and `pull` subcommands, the seed's `--mode send|receive` form, `--help` and `--version`. Each
 * command's action validates its options and awaits the matching handler.
 *
 * Run it with `await program.parseAsync(argv, { from: "user" })` (argv without `node` and the
 * script). It never calls `process.exit`: usage errors, `--help` and `--version` throw
 * commander's `CommanderError` after writing to `output` (see {@link runCommandLine}); handler
 * errors propagate unchanged.
 */
export function buildProgram(handlers: CommandHandlers, output?: ProgramOutput): Command {
  const program = new EncstreamCommand("encstream")
    .description("Stream audio over UDP with Meta's EnCodec neural codec, or encode and decode .ecdc files.")
    .version(packageVersion, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .addOption(
      new Option("--mode <mode>", "the seed's form of the send and receive commands: `--mode send ...` is `send ...`").choices(SEED_MODES),
    )
    // Root options only before the command, so `receive --mode send` is an error, not a switch.
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  encstream send --input a.wav --ip 127.0.0.1 --port 9527 --no-lm --overlap 25",
        "  encstream receive --port 9527 --buffer-size 24 --overlap 25 --output out.wav",
        "  encstream --mode receive --port 9527       (the seed's form)",
        "  encstream encode --bandwidth 6 speech.wav speech.ecdc",
        "  encstream decode speech.ecdc speech.wav",
        "  encstream pull 48khz",
        "  encstream keygen stream.key            (then send/receive --key-file stream.key: encrypted, authenticated)",
      ].join("\n"),
    );
  if (output !== undefined) program.configureOutput(output);
  program.helpCommand("help [command]", "show help for a command");

  const subcommand = (name: CommandName, description: string) => {
    const command = new Command(name).copyInheritedSettings(program).description(description);
    program.addCommand(command);
    return command;
  };

  const send = subcommand("send", "send a WAV file to a receiver as EnCodec frames over UDP, paced at real time")
    // Required, but checked in the action rather than by commander, which reports a missing
    // mandatory option before an unknown one: `send --inptu a.wav` must name `--inptu`.
    .addOption(
      new Option(
        "-i, --input <file>",
        "WAV file to send (any rate, bit depth and channel count), - for stdin (WAV or --raw-format), mic for the capture device (required); give it again for more tracks, one per --input",
      ).argParser((value: string, previous: unknown) => [...(Array.isArray(previous) ? (previous as string[]) : []), parsePath("--input")(value)]),
    )
    .addOption(
      new Option("--tracks <how>", "inputs: one track per --input; split: one track per channel of the single --input WAV").choices(["inputs", "split"]).default("inputs"),
    )
    .addOption(
      new Option("--lm-tracks <list>", "per-track LM coding, on or off by position (on,off; one value: every track) (default: every track as --lm/--no-lm say)").argParser(parseOnOffList),
    )
    .addOption(rawFormatOption("stdin (with --input -)", "a WAV stream"))
    .addOption(new Option("--input-device <device>", "capture device for --input mic: its index or part of its name (see encstream devices; default: the default input)").argParser(parsePath("--input-device")))
    .addOption(
      new Option("--ip <host>", "receiver address (IPv4, IPv6 or host name), or a multicast group (224.0.0.0/4, ff00::/8) to reach every receiver that joined it")
        .default(DEFAULT_SEND_HOST)
        .argParser(parseHost("--ip")),
    )
    .addOption(new Option("-p, --port <port>", "receiver UDP port, 1-65535").default(DEFAULT_PORT).argParser(integerIn("--port", 1, 65_535)))
    .addOption(new Option("--bind <address>", "local address to send from (default: chosen by the OS); with a multicast --ip, the interface to send on").argParser(parseAddress("--bind")))
    .addOption(
      new Option("--ttl <hops>", "multicast time-to-live, 0-255 (1: this network only; used when --ip is a multicast group)")
        .default(DEFAULT_MULTICAST_TTL)
        .argParser(integerIn("--ttl", 0, 255, " hops")),
    )
    .addOption(
      new Option("--mtu <bytes>", `largest datagram, ${HEADER_BYTES}-byte header included, ${MIN_MTU_BYTES}-${MAX_UDP_PAYLOAD_IPV4_BYTES}`)
        .default(DEFAULT_MTU_BYTES)
        .argParser(integerIn("--mtu", MIN_MTU_BYTES, MAX_UDP_PAYLOAD_IPV4_BYTES, " bytes")),
    )
    .addOption(
      new Option("--chunk-ms <ms>", `chunk length of the chunked mode, ${MIN_CHUNK_MS}-${MAX_CHUNK_MS} (default: 250 for 24 kHz models, 1000 for 48 kHz)`)
        .argParser(integerIn("--chunk-ms", MIN_CHUNK_MS, MAX_CHUNK_MS, " ms"))
        .conflicts("stream"),
    );
  addCodingOptions(send, "default-on", "auto");
  addStreamingOptions(send);
  send
    .addOption(
      new Option("--fec <D[:K]>", "forward error correction: each payload also carries the first K codebooks (default 2) of the D previous units (1–8); default: none").argParser(parseFec),
    )
    .addOption(
      new Option(
        "--frames-per-packet <n>",
        `frames per message in --stream mode (1–16; as Opus's packet time: fewer headers, more delay); with --bandwidth auto, the most the rate controller may choose; default: 1, with auto ${DEFAULT_AUTO_MAX_FRAMES_PER_PACKET}`,
      ).argParser(integerIn("--frames-per-packet", 1, MAX_FRAMES_PER_PACKET)),
    )
    .addOption(new Option("--dtx", `discontinuous transmission: audio quieter than --dtx-threshold for over 200 ms goes as small comfort-noise units; default: off`))
    .addOption(
      new Option("--dtx-threshold <dBFS>", `the level below which --dtx sends comfort noise, -127 to 0 dBFS (implies --dtx); default: ${DEFAULT_DTX_THRESHOLD_DB}`).argParser(
        integerIn("--dtx-threshold", -127, 0, " dBFS"),
      ),
    );
  // Actions build the options synchronously (so a validation error throws out of parse()) and
  // return the handler's promise.
  send.action((raw: RawOptions) => {
    if (raw.input === undefined) send.error("error: required option '-i, --input <file>' not specified", { code: "commander.missingMandatoryOptionValue" });
    const inputs = raw.input as string[];
    return handlers.send({
      ...codingOptions(raw, send),
      ...streamingOptions(raw),
      input: inputs[0] as string,
      tracks: sendTracksOptions(raw, send, inputs),
      ip: raw.ip as string,
      ttl: raw.ttl as number,
      port: raw.port as number,
      bind: raw.bind as string | undefined,
      mtuBytes: raw.mtu as number,
      chunkMs: raw.chunkMs as number | undefined,
      rawFormat: raw.rawFormat as RawFormat | undefined,
      inputDevice: raw.inputDevice as string | undefined,
      lmKeyframeIntervalFrames: raw.keyframeInterval as number,
      ...sendResilienceOptions(raw, send),
    });
  });

  const receive = subcommand("receive", "receive a stream, then play it and/or write it to a WAV file")
    .addOption(new Option("-p, --port <port>", "UDP port to listen on, 0-65535 (0: any free port)").default(DEFAULT_PORT).argParser(integerIn("--port", 0, 65_535)))
    .addOption(new Option("--bind <address>", `local address to listen on (:: for IPv6) (default: ${DEFAULT_BIND_ADDRESS}, or :: for an IPv6 --group)`).argParser(parseAddress("--bind")))
    .addOption(new Option("--group <address>", "multicast group to join, IPv4 (224.0.0.0/4) or IPv6 (ff00::/8); several receivers may join it on one host (default: none, unicast)").argParser(parseAddress("--group")))
    .addOption(new Option("--interface <address>", "address of the interface to join --group on (default: the kernel's choice)").argParser(parseAddress("--interface")))
    .addOption(
      new Option(
        "--buffer-size <size>",
        `the jitter buffer's prefill, a duration (200ms, 1.5s; up to ${MAX_BUFFER_MS / 1000}s, rounded up to whole units) or a count of units ` +
          `(frames or chunks), 1-${MAX_CAPACITY_FRAMES}; its capacity is max(16, 2 × the prefill in units)`,
      )
        .default({ unit: "ms", ms: DEFAULT_BUFFER_MS } satisfies BufferSize, `${DEFAULT_BUFFER_MS}ms`)
        .argParser(parseBufferSize),
    )
    .addOption(new Option("-o, --output <file>", "write the audio to this WAV file as it arrives, - for stdout (a streamable WAV, or raw with --raw-format; default: none)").argParser(parsePath("--output")))
    .addOption(rawFormatOption("stdout (with --output -), rate and channels the model's", "a WAV stream"))
    .addOption(new Option("--play", "play the audio on the default output device (default: on when neither --output nor --web is given)"))
    .addOption(
      new Option("--web <[host:]port>", "serve the web receiver page on this address and relay the stream to every open page (default: none; host 127.0.0.1 when not given)").argParser(
        parseWebAddress,
      ),
    )
    .addOption(new Option("--no-webrtc", "with --web: relay to pages over their WebSocket only, offering no WebRTC data channel (default: offered when node-datachannel is installed)"))
    .addOption(new Option("--web-root <dir>", "the built web receiver to serve with --web (default: examples/web-receiver/dist of this repository)").argParser(parsePath("--web-root")))
    .addOption(sampleFormatOption())
    .addOption(
      new Option("--timeout <seconds>", `end after this long without packets, ${0.001}-${MAX_IDLE_TIMEOUT_S} s; no packets at all in that time is an error (default: none, run until Ctrl-C)`).argParser(
        numberIn("--timeout", 0.001, MAX_IDLE_TIMEOUT_S, " s"),
      ),
    )
    .addOption(
      new Option("--stream-idle <seconds>", "end a started stream after this long without its packets, playing out what is buffered")
        .default(3)
        .argParser(numberIn("--stream-idle", 0.1, MAX_IDLE_TIMEOUT_S, " s")),
    )
    .addOption(new Option("--allow-from <addr[:port]>", "accept datagrams from this address (and port) only (default: any; the stream's source is followed)").argParser(parseAllowFrom));
  addModelOptions(receive, "decode with (a comma list for a multi-track run: 24khz,48khz; each track is decoded by the one of its kind)", true);
  receive.addOption(
    new Option("--mix [file]", "mix the tracks of a multi-track run, aligned sample for sample; the mix goes to FILE, else to --output/--play (tracks: --output with {track}, e.g. 'out-{track}.wav') (default: no mix)").argParser(parsePath("--mix")),
  );
  receive.addOption(new Option("--lm <path>", "language-model weights for LM-coded streams (default: the model's own)").argParser(parsePath("--lm")));
  addStreamingOptions(receive);
  receive.action((raw: RawOptions) => {
    const output = raw.output as string | undefined;
    if (output === "-" && raw.play === true) {
      receive.error("error: --play cannot go with --output -: the audio library prints on stdout, which carries the audio (play it with a pipe: --output - | ffplay -)", {
        code: "encstream.invalidCombination",
      });
    }
    const group = raw.group as string | undefined;
    const models = Array.isArray(raw.model) ? (raw.model as ModelRef[]) : undefined;
    const mix = raw.mix as string | true | undefined;
    if (output?.includes("{track}") === true && (output === "-" || raw.play === true || raw.web !== undefined || raw.rawFormat !== undefined)) {
      receive.error("error: --output with {track} writes one WAV per track: it cannot go with --play, --web or --raw-format (play the tracks with --mix)", { code: "encstream.invalidCombination" });
    }
    if (mix === true && output?.includes("{track}") === true) {
      receive.error("error: --mix without a file sends the mix to --output, which names one WAV per track ({track}): give the mix a file (--mix mix.wav)", { code: "encstream.invalidCombination" });
    }
    if ((mix !== undefined || output?.includes("{track}") === true) && (raw.web !== undefined || output === "-")) {
      receive.error("error: a multi-track receive (--mix, {track}) writes WAV files or plays: it cannot go with --web or --output -", { code: "encstream.invalidCombination" });
    }
    return handlers.receive({
      model: models?.[0] ?? (raw.model as ModelRef),
      models,
      mix,
      cacheDir: raw.cacheDir as string | undefined,
      precision: raw.precision as CodecPrecision,
      lmPath: raw.lm as string | undefined,
      ...streamingOptions(raw),
      port: raw.port as number,
      bind: (raw.bind as string | undefined) ?? (group?.includes(":") === true ? "::" : DEFAULT_BIND_ADDRESS),
      group,
      interface: raw.interface as string | undefined,
      bufferSize: raw.bufferSize as BufferSize,
      output,
      play: raw.play === true || (output === undefined && raw.web === undefined && typeof mix !== "string"),
      web: raw.web as WebAddress | undefined,
      webRoot: raw.webRoot as string | undefined,
      webrtc: raw.webrtc !== false,
      sampleFormat: raw.sampleFormat as OutputSampleFormat,
      idleTimeoutS: raw.timeout as number | undefined,
      rawFormat: raw.rawFormat as RawFormat | undefined,
      streamIdleS: raw.streamIdle as number,
      allowFrom: raw.allowFrom as { address: string; port: number | undefined } | undefined,
    });
  });

  const encode = subcommand("encode", "encode a WAV file into an .ecdc file")
    .argument("<input>", "WAV file to encode (any rate, bit depth and channel count)", parsePath("<input>"))
    .argument("<output>", ".ecdc file to write", parsePath("<output>"));
  addCodingOptions(encode, "opt-in");
  encode.action((input: string, outputPath: string, raw: RawOptions) =>
    handlers.encode({ ...codingOptions(raw, encode, "opt-in"), input, output: outputPath }),
  );

  const decode = subcommand("decode", "decode an .ecdc file into a WAV file")
    .argument("<input>", ".ecdc file to decode", parsePath("<input>"))
    .argument("<output>", "WAV file to write", parsePath("<output>"))
    .addOption(new Option("-m, --model <model>", "24khz, 48khz, a Hugging Face repo id or a model directory (default: the model named in the file)").argParser(parseModel))
    .addOption(new Option("--lm <path>", "language-model weights for LM-coded files (default: the model's own)").argParser(parsePath("--lm")))
    .addOption(sampleFormatOption())
    .addOption(cacheDirOption())
    .addOption(precisionOption());
  decode.action((input: string, outputPath: string, raw: RawOptions) =>
    handlers.decode({
      input,
      output: outputPath,
      model: raw.model as ModelRef | undefined,
      lmPath: raw.lm as string | undefined,
      sampleFormat: raw.sampleFormat as OutputSampleFormat,
      cacheDir: raw.cacheDir as string | undefined,
      precision: raw.precision as CodecPrecision,
    }),
  );

  const keygen = subcommand("keygen", "write a new random key file (mode 0600) for authenticated, encrypted streams")
    .argument("<file>", "the key file to write", parsePath("FILE"))
    .addOption(new Option("--key-id <id>", "id of the new key, carried in every datagram (default: random)").argParser(integerIn("--key-id", 0, 255)))
    .addOption(new Option("--rotate", "add the new key, first, to an existing key file (senders use it, receivers accept all)").default(false))
    .addOption(new Option("--force", "replace an existing file").default(false).conflicts("rotate"));
  keygen.action((output: string, raw: RawOptions) =>
    handlers.keygen({ output, keyId: raw.keyId as number | undefined, rotate: raw.rotate === true, force: raw.force === true }),
  );

  const pull = subcommand("pull", "download a model from the Hugging Face Hub (or a mirror) into the cache")
    .argument("<repo-id>", "24khz, 48khz or a repository id like facebook/encodec_24khz", parseRepoId)
    .addOption(
      new Option(
        "--base-url <url>",
        "Hub or mirror URL (default: $ENCSTREAM_HUB_URL, else https://huggingface.co); a mirror also serves the language model, " +
          "beside the model's files in the repository's folder",
      ).argParser(parseBaseUrl),
    )
    .addOption(new Option("--revision <name>", "branch, tag or commit").default("main").argParser(parseRevision))
    .addOption(new Option("--force", "download again even if the files are cached").default(false))
    .addOption(cacheDirOption())
    .addHelpText(
      "after",
      [
        "",
        "Meta's two models also get their language model (encodec_lm_24khz-1608e3c0.th, encodec_lm_48khz-7add9fc3.th), which is",
        `not on the Hub: from --base-url when given, else from $ENCSTREAM_LM_URL, else from ${DEFAULT_LM_BASE_URL}.`,
        "",
        "Environment: ENCSTREAM_HUB_URL (the Hub or a mirror), ENCSTREAM_LM_URL (where language models are downloaded from),",
        "ENCSTREAM_CACHE_DIR (the cache).",
      ].join("\n"),
    );
  const devices = subcommand("devices", "list the audio input and output devices (for send --input mic --input-device and playback)").addOption(
    new Option("--json", "print the list as JSON").default(false),
  );
  devices.action((raw: RawOptions) => handlers.devices({ json: raw.json === true }));

  pull.action((repoId: string, raw: RawOptions) =>
    handlers.pull({
      repoId,
      baseUrl: raw.baseUrl as string | undefined,
      revision: raw.revision as string,
      force: raw.force === true,
      cacheDir: raw.cacheDir as string | undefined,
    }),
  );

  return program;
}

type RawOptions = Record<string, unknown>;

function rawFormatOption(where: string, defaultText: string): Option {
  return new Option("--raw-format <format>", `raw PCM on ${where}: s16le or f32le:RATE:CHANNELS, e.g. s16le:48000:2 (default: ${defaultText})`).argParser((value: string) => {
    try {
      return parseRawFormat(value);
    } catch (error) {
      throw new InvalidArgumentError(`--raw-format ${(error as Error).message.replace(/^rawFormat('s)? /, "")}.`);
    }
  });
}

function sampleFormatOption(): Option {
  return new Option("--sample-format <format>", "WAV sample format: 16-bit PCM or 32-bit float").choices(["s16", "f32"]).default("s16");
}

function cacheDirOption(): Option {
  return new Option("--cache-dir <dir>", `where models and built graphs are kept (default: ${CACHE_DIR_DEFAULT})`).argParser(parsePath("--cache-dir"));
}

function addModelOptions(command: Command, verb: string, list = false): void {
  command
    .addOption(
      new Option("-m, --model <model>", `model to ${verb}: 24khz, 48khz, a Hugging Face repo id (owner/name) or a model directory`)
        .default(DEFAULT_MODEL, "24khz")
        .argParser(list ? listOf(parseModel) : parseModel),
    )
    .addOption(cacheDirOption())
    .addOption(precisionOption());
}

function precisionOption(): Option {
  return new Option("--precision <precision>", "float32 (exact), int8 or int4 (faster per frame, approximate; int4 the fastest and roughest: see the codec README's fidelity table)").choices(CODEC_PRECISIONS).default("float32");
}

/**
 * The model, bandwidth, LM and cache options. `lm`: `"default-on"` (send: LM coding unless
 * `--no-lm`; `--lm PATH` names the weights) or `"opt-in"` (encode, as the reference's tool:
 * packed codes unless `--lm`; `--lm-weights PATH` names the weights and implies `--lm`; `--no-lm`
 * is accepted and wins when given after them).
 */
function addCodingOptions(command: Command, lm: "default-on" | "opt-in" = "default-on", bandwidth: "fixed" | "auto" = "fixed"): void {
  // send (the "auto" one) takes per-track lists: --model 24khz,48khz --bandwidth 6,12
  addModelOptions(command, bandwidth === "auto" ? "code with (per track, by position: 24khz,48khz)" : "code with", bandwidth === "auto");
  command
    .addOption(
      bandwidth === "auto"
        ? new Option(
            "-b, --bandwidth <kbps>",
            "bandwidth: 1.5, 3, 6, 12 or 24 (the 48khz model has no 1.5); or auto[:MIN-MAX], adaptive from the receiver's reports, starting at MAX (auto: the model's lowest to 12); per track, by position: 6,12",
          )
            .default(DEFAULT_BANDWIDTH_KBPS)
            .argParser(listOf(parseSendBandwidth))
        : new Option("-b, --bandwidth <kbps>", "target bandwidth: 1.5, 3, 6, 12 or 24 (the 48khz model has no 1.5)")
            .default(DEFAULT_BANDWIDTH_KBPS)
            .argParser(parseBandwidth),
    )
    .addOption(
      lm === "opt-in"
        ? new Option("--lm", "entropy-code the codes with the language model (default: packed codes, as the reference's encodec tool)")
        : new Option(
            "--lm [path]",
            "entropy-code with the language model, the model's own or the weights at path (default: on for chunks, off for --stream, where a lost packet costs every frame up to the next LM keyframe)",
          ).argParser(parsePath("--lm")),
    )
    .addOption(
      new Option(
        "--no-lm",
        lm === "opt-in"
          ? "packed codes, no LM coding (default: so; accepted for scripts that pass it, and wins over an earlier --lm)"
          : "use packed codes instead of LM arithmetic coding (default: see --lm; the last of --lm/--no-lm wins)",
      ),
    );
  if (lm === "default-on") {
    command.addOption(
      new Option("--keyframe-interval <frames>", `LM keyframe every this many frames in --stream mode with --lm, 1-${MAX_LM_KEYFRAME_INTERVAL_FRAMES} (a lost packet costs the frames up to the next keyframe)`)
        .default(STREAM_LM_KEYFRAME_INTERVAL_FRAMES)
        .argParser(integerIn("--keyframe-interval", 1, MAX_LM_KEYFRAME_INTERVAL_FRAMES, " frames")),
    );
  }
  if (lm === "opt-in") {
    command.addOption(new Option("--lm-weights <path>", "language-model weights for --lm (default: the model's own); implies --lm").argParser(parsePath("--lm-weights")));
  }
}

function addStreamingOptions(command: Command): void {
  command
    .addOption(new Option("--stream", "frame-exact streaming (stateful codec, no overlap) instead of overlapping chunks").default(false))
    .addOption(
      new Option("--overlap <percent>", `crossfade between chunks, ${MIN_OVERLAP_PERCENT}-${MAX_OVERLAP_PERCENT} percent of the chunk (chunked mode)`)
        .default(DEFAULT_OVERLAP_PERCENT)
        .argParser(numberIn("--overlap", MIN_OVERLAP_PERCENT, MAX_OVERLAP_PERCENT, " (percent)"))
        .conflicts("stream"),
    )
    .addOption(new Option("--stats", "print packet, loss and jitter statistics").default(false))
    .addOption(new Option("--no-workers", "run the model on the main thread (default: in a worker thread, so network I/O and playout timing never wait for it)"))
    .addOption(
      new Option("--key-file <file>", "authenticate and encrypt every datagram with this key file (from `encstream keygen`; default: $ENCSTREAM_KEY, else none)").argParser(
        parsePath("--key-file"),
      ),
    );
}

/** The coding options, checking the bandwidth against a preset model's. */
function codingOptions(raw: RawOptions, command: Command, lm: "default-on" | "opt-in" = "default-on"): CodingOptions {
  const model = (Array.isArray(raw.model) ? raw.model[0] : raw.model) as ModelRef;
  const bandwidth = Array.isArray(raw.bandwidth) ? raw.bandwidth[0] : raw.bandwidth;
  const auto = typeof bandwidth === "object" ? (bandwidth as AutoBandwidth) : undefined;
  const bandwidthKbps = auto !== undefined ? auto.maxKbps : (bandwidth as BandwidthKbps);
  for (const b of auto !== undefined ? [auto.minKbps, auto.maxKbps] : [bandwidthKbps]) {
    if (b !== undefined && model.kind === "preset" && !model.preset.bandwidthsKbps.includes(b)) {
      command.error(`error: --bandwidth ${b} is not available with the ${model.preset.name} model (${model.preset.bandwidthsKbps.join(", ")} kbps)`, {
        code: "encstream.invalidCombination",
      });
    }
  }
  return {
    model,
    bandwidthKbps,
    // send: LM coding unless --no-lm for chunks, only with --lm for --stream (see the CLI README's
    // "LM coding and loss"); encode: only with --lm or --lm-weights
    useLm: lm === "opt-in" ? raw.lm === true || (raw.lm !== false && typeof raw.lmWeights === "string") : raw.lm === undefined ? raw.stream !== true : raw.lm !== false,
    lmPath: lm === "opt-in" ? (typeof raw.lmWeights === "string" ? raw.lmWeights : undefined) : typeof raw.lm === "string" ? raw.lm : undefined,
    cacheDir: raw.cacheDir as string | undefined,
    precision: raw.precision as CodecPrecision,
  };
}

/** `--bandwidth auto`, `--fec`, `--frames-per-packet` of `send`. */
function sendResilienceOptions(raw: RawOptions, command: Command): Pick<SendOptions, "adaptive" | "fec" | "framesPerPacket" | "dtx"> {
  const framesPerPacket = raw.framesPerPacket as number | undefined;
  if (framesPerPacket !== undefined && framesPerPacket > 1 && raw.stream !== true) {
    command.error("error: --frames-per-packet needs --stream (a chunk is one message already)", { code: "encstream.invalidCombination" });
  }
  const bandwidth = Array.isArray(raw.bandwidth) ? raw.bandwidth[0] : raw.bandwidth;
  const auto = typeof bandwidth === "object" ? (bandwidth as AutoBandwidth) : undefined;
  return {
    adaptive: auto === undefined ? undefined : { minKbps: auto.minKbps, maxKbps: auto.maxKbps },
    fec: raw.fec as { depth: number; numCodebooks: number } | undefined,
    ...(framesPerPacket !== undefined ? { framesPerPacket } : {}),
    dtx: raw.dtx === true || raw.dtxThreshold !== undefined ? { thresholdDb: (raw.dtxThreshold as number | undefined) ?? DEFAULT_DTX_THRESHOLD_DB } : undefined,
  };
}

/** A parser of a comma list of what `parse` reads; one item gives the item itself (the seed's single value). */
function listOf<T>(parse: (value: string) => T): (value: string) => T | T[] {
  return (value: string) => {
    const parts = value.split(",");
    return parts.length === 1 ? parse(value) : parts.map((part) => parse(part));
  };
}

function parseOnOffList(value: string): boolean[] {
  return value.split(",").map((part) => {
    const text = part.trim().toLowerCase();
    if (text !== "on" && text !== "off") throw new InvalidArgumentError(`--lm-tracks: each entry must be on or off, got '${part}'.`);
    return text === "on";
  });
}

/** `send`'s tracks: several --input, --tracks split, and the per-track lists, checked against each other. */
function sendTracksOptions(raw: RawOptions, command: Command, inputs: readonly string[]): SendTracksOptions | undefined {
  const split = raw.tracks === "split";
  const models = (Array.isArray(raw.model) ? raw.model : [raw.model]) as ModelRef[];
  const bandwidths = (Array.isArray(raw.bandwidth) ? raw.bandwidth : [raw.bandwidth]) as (BandwidthKbps | AutoBandwidth)[];
  const lm = raw.lmTracks as boolean[] | undefined;
  const fail = (text: string) => command.error(`error: ${text}`, { code: "encstream.invalidCombination" });
  if (split && inputs.length !== 1) fail("--tracks split takes the channels of one --input WAV as tracks: give one --input");
  if (split && (inputs[0] === "-" || inputs[0] === "mic")) fail("--tracks split needs a WAV file as --input");
  if (!split && inputs.length === 1) {
    if (models.length > 1 || bandwidths.length > 1 || (lm?.length ?? 0) > 1) fail("per-track lists (--model a,b, --bandwidth a,b, --lm-tracks) need several tracks: give --input more than once, or --tracks split");
    return undefined;
  }
  if (inputs.filter((i) => i === "-").length > 1) fail("--input -: stdin can feed one track only");
  if (inputs.filter((i) => i === "mic").length > 1) fail("--input mic: the capture device can feed one track only");
  if (raw.rawFormat !== undefined && !inputs.includes("-")) fail("--raw-format describes stdin: give it with --input -");
  if (!split) {
    for (const [name, list] of [["--model", models], ["--bandwidth", bandwidths], ["--lm-tracks", lm ?? []]] as const) {
      if (list.length > 1 && list.length !== inputs.length) fail(`${name} lists ${list.length} values for ${inputs.length} tracks (give one value, or one per track)`);
    }
  }
  return {
    inputs,
    split,
    models,
    bandwidths: bandwidths.map((b) => (typeof b === "object" ? { minKbps: b.minKbps, maxKbps: b.maxKbps } : b)),
    lm,
  };
}

function streamingOptions(raw: RawOptions): Pick<StreamingOptions, "framing" | "overlapRatio" | "stats" | "workers" | "keyFile"> {
  return {
    framing: raw.stream === true ? "stream" : "chunked",
    overlapRatio: percentToOverlapRatio(raw.overlap as number),
    stats: raw.stats === true,
    workers: raw.workers !== false,
    keyFile: raw.keyFile as string | undefined,
  };
}

/** True for the CommanderErrors that mean "help or version was printed, all is well". */
function isInformational(error: CommanderError): boolean {
  return error.code === "commander.helpDisplayed" || error.code === "commander.version" || (error.code === "commander.help" && error.exitCode === 0);
}

/**
 * Parses a command line (without `node` and the script) into the command and its typed options,
 * without running anything. `--help`, `help` and `--version` give `{ command: "help", text }`.
 *
 * @throws CliError `"usage"` whose message is what the command line would print (for instance
 *   "error: option '--port <port>' argument '0' is invalid. --port must be an integer from 1 to 65535.").
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  let parsed: ParsedCommandLine | undefined;
  const capture =
    <C extends CommandName>(command: C) =>
    async (options: Extract<ParsedCommandLine, { command: C }>["options"]): Promise<void> => {
      parsed = { command, options } as ParsedCommandLine;
    };
  let out = "";
  const program = buildProgram(
    { send: capture("send"), receive: capture("receive"), encode: capture("encode"), decode: capture("decode"), pull: capture("pull"), devices: capture("devices"), keygen: capture("keygen") },
    // Errors come back as the CommanderError's message; only help and version text is kept.
    { writeOut: (text) => (out += text), writeErr: () => undefined },
  );
  try {
    // The actions build their options and call the handlers synchronously, and the capturing
    // handlers record them at once, so the promise parse() leaves behind holds no work.
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (isInformational(error)) return { command: "help", text: out };
    const message = error.code === "commander.help" ? "error: expected a command: send, receive, encode, decode, pull, devices or keygen" : error.message;
    throw new CliError("usage", message, { cause: error });
  }
  if (parsed === undefined) throw new Error("parseCommandLine: no command ran");
  return parsed;
}

/**
 * Runs a command line (without `node` and the script) with the given handlers, for `bin.ts`:
 * writes help, version and errors to `output` (stdout/stderr by default) and resolves with the
 * process exit code: 0 on success, help or version; 2 for a usage error (as the seed's argparse
 * did); 1 when a handler fails (a CliError prints "error: <message>"; anything else its stack).
 */
export async function runCommandLine(
  argv: readonly string[],
  handlers: CommandHandlers,
  output: ProgramOutput = { writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) },
): Promise<number> {
  const program = buildProgram(handlers, output);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return isInformational(error) ? 0 : 2;
    if (isCliError(error)) {
      output.writeErr(`error: ${error.message}\n`);
      return error.code === "usage" ? 2 : 1;
    }
    output.writeErr(`error: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
