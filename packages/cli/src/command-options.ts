import type { CodecPrecision } from "@encstream/codec";
import type { WebAddress } from "./web/web-address.js";
import type { RawFormat } from "./audio/raw-format.js";
import type { OutputSampleFormat } from "./internal/pcm.js";
import type { BandwidthKbps, ModelRef } from "./model-ref.js";

/*
 * The typed options each `encstream` command's handler receives (see `buildProgram` in
 * options.ts, which parses and validates them).
 */

/** The commands of `encstream`. */
export type CommandName = "send" | "receive" | "encode" | "decode" | "pull" | "devices" | "keygen";

/** How audio is cut for streaming: overlapping chunks joined by a crossfade, or exact model frames. */
export type Framing = "chunked" | "stream";

/** Options every model-loading command has. */
export interface ModelOptions {
  /** `--model`: which EnCodec model. @default the 24khz preset */
  readonly model: ModelRef;
  /** `--cache-dir`: where models and built graphs are kept. @default undefined (the codec's default cache) */
  readonly cacheDir: string | undefined;
  /**
   * `--precision`: `"float32"` (exact, the reference's numbers), `"int8"` or `"int4"` (the
   * codec's quantized graphs: faster per frame, approximate, int4 the more so; see the codec
   * README's fidelity table).
   * @default "float32"
   */
  readonly precision?: CodecPrecision;
}

/** Options of the commands that encode or decode EnCodec frames. */
export interface CodingOptions extends ModelOptions {
  /** `--bandwidth`, kbps (must be one the model supports). @default 12 */
  readonly bandwidthKbps: BandwidthKbps;
  /**
   * LM arithmetic coding instead of packed codes. send: on for chunks unless `--no-lm`, off for
   * `--stream` unless `--lm` (a lost packet would cost every frame up to the next LM keyframe);
   * encode: off unless `--lm` or `--lm-weights PATH` (as the reference's tool).
   * @default true (send, chunked), false (send --stream, encode)
   */
  readonly useLm: boolean;
  /** `--lm PATH` (send, receive) or `--lm-weights PATH` (encode): language-model weights to use instead of the model's own. @default undefined */
  readonly lmPath: string | undefined;
}

/**
 * `--buffer-size`: the jitter buffer's prefill, as a count of units (frames or chunks, the seed's
 * form: `--buffer-size 24`) or as a duration (`--buffer-size 200ms`, `1.5s`), which the receiver
 * turns into whole units (rounded up, at least one) once the stream says how long a unit is.
 */
export type BufferSize = { readonly unit: "units"; readonly units: number } | { readonly unit: "ms"; readonly ms: number };

/** Options of the streaming commands. */
export interface StreamingOptions extends ModelOptions {
  /** `--stream` selects `"stream"`: frame-exact stateful coding, no overlap. @default "chunked" */
  readonly framing: Framing;
  /** `--overlap` as a fraction of the chunk (0.01 to 0.5; chunked framing only). @default 0.25 */
  readonly overlapRatio: number;
  /** `--stats`: print transport and jitter statistics. @default false */
  readonly stats: boolean;
  /**
   * Run the model in worker threads (one per side), so the main thread that reads datagrams,
   * paces the sends and clocks the playout never waits for a model call; `--no-workers` runs it
   * on the main thread. @default true
   */
  readonly workers: boolean;
  /**
   * `--key-file`: key file for authenticated, encrypted datagrams (`encstream keygen`); without
   * it `$ENCSTREAM_KEY` is used if set, else the seed's unauthenticated wire.
   * @default undefined
   */
  readonly keyFile: string | undefined;
}

/** `encstream send`: stream a WAV file to a receiver. */
export interface SendOptions extends StreamingOptions, CodingOptions {
  /** `--input`: the WAV file to send, `-` for stdin (a WAV or raw stream) or `mic` for the capture device (required). */
  readonly input: string;
  /** `--raw-format` (with `--input -`): raw PCM on stdin, e.g. `s16le:48000:2`. @default undefined (stdin carries a WAV) */
  readonly rawFormat?: RawFormat | undefined;
  /** `--input-device` (with `--input mic`): a device index or part of its name. @default undefined (the default input) */
  readonly inputDevice?: string | undefined;
  /** `--ip`: receiver address or host name; a multicast group sends to every receiver that joined it. @default "127.0.0.1" */
  readonly ip: string;
  /** `--ttl`: multicast time-to-live in hops, 0 to 255 (used when `--ip` is a multicast group). @default 1 */
  readonly ttl: number;
  /** `--port`: receiver UDP port, 1 to 65535. @default 9527 */
  readonly port: number;
  /** `--bind`: local address to send from. @default undefined (chosen by the OS) */
  readonly bind: string | undefined;
  /** `--mtu`: largest datagram, header included, bytes (64 to 65507). @default 220 */
  readonly mtuBytes: number;
  /**
   * `--bandwidth auto[:MIN-MAX]`: adapt K to the path between these bandwidths (kbps; MIN
   * undefined: the model's lowest), starting at MAX (`bandwidthKbps` is then MAX).
   * @default undefined (fixed bandwidth)
   */
  readonly adaptive?: { readonly minKbps: BandwidthKbps | undefined; readonly maxKbps: BandwidthKbps } | undefined;
  /** `--fec D[:K]`: carry the first K codebooks of the D previous units in every payload. @default undefined (no FEC) */
  readonly fec?: { readonly depth: number; readonly numCodebooks: number } | undefined;
  /**
   * `--frames-per-packet`: frames per message in stream mode (1–16); with `adaptive` in stream
   * mode, the most the rate controller may choose (it chooses 1 to this per message).
   * @default undefined (1; with `adaptive` in stream mode, `DEFAULT_AUTO_MAX_FRAMES_PER_PACKET` = 16)
   */
  readonly framesPerPacket?: number;
  /**
   * `--keyframe-interval`: frames between LM keyframes of an LM-coded stream (`--stream --lm`),
   * 1 to 75; a lost message costs the frames up to the next keyframe. Chunks are all keyframes.
   * @default 15
   */
  readonly lmKeyframeIntervalFrames?: number;
  /**
   * `--dtx` / `--dtx-threshold`: units whose input stays below `thresholdDb` (dBFS) for over
   * 200 ms go as comfort noise units (no codes). @default undefined (off)
   */
  readonly dtx?: { readonly thresholdDb: number } | undefined;
  /**
   * `--chunk-ms`: chunk length of the chunked framing, ms. Undefined: the model's default
   * (`MODEL_PRESETS[name].defaultChunkMs`: 250 ms at 24 kHz, 1000 ms at 48 kHz).
   * @default undefined
   */
  readonly chunkMs: number | undefined;
  /**
   * Several tracks in one run (`--input` given more than once, or `--tracks split`), with their
   * per-track settings matched by position. @default undefined (one track: the seed's stream)
   */
  readonly tracks?: SendTracksOptions | undefined;
}

/** `send`'s tracks: what each track sends, by position (a list of one applies to every track). */
export interface SendTracksOptions {
  /** `--input`, each given: one track per input (or, with `split`, the one input's channels). */
  readonly inputs: readonly string[];
  /** `--tracks split`: one track per channel of the single `--input` WAV. @default false */
  readonly split: boolean;
  /** `--model a,b`: each track's model (1 entry: every track's). */
  readonly models: readonly ModelRef[];
  /** `--bandwidth 6,12` (or `auto[:MIN-MAX]` entries): each track's bandwidth (1 entry: every track's). */
  readonly bandwidths: readonly (BandwidthKbps | { readonly minKbps: BandwidthKbps | undefined; readonly maxKbps: BandwidthKbps })[];
  /** `--lm-tracks on,off`: each track's LM coding (1 entry: every track's). @default undefined (`useLm` for every track) */
  readonly lm: readonly boolean[] | undefined;
}

/**
 * `encstream receive`: receive a stream and play it and/or write a WAV. The stream itself says
 * its bandwidth and whether it is LM-coded, so the send-side `--bandwidth` and `--no-lm` are not
 * options of `receive`.
 */
export interface ReceiveOptions extends StreamingOptions {
  /** `--lm`: language-model weights for LM-coded streams. @default undefined (the model's own) */
  readonly lmPath: string | undefined;
  /** `--port`: UDP port to listen on; 0 lets the OS pick one. @default 9527 */
  readonly port: number;
  /** `--bind`: local address to listen on. @default "0.0.0.0" (with `--group`: that group's family's wildcard address) */
  readonly bind: string;
  /** `--group`: multicast group to join (IPv4 or IPv6). @default undefined (unicast) */
  readonly group: string | undefined;
  /** `--interface`: address of the interface to join `--group` on. @default undefined (the kernel's choice) */
  readonly interface: string | undefined;
  /**
   * `--buffer-size`: the jitter buffer's prefill (units, or a duration rounded up to whole units);
   * its capacity is max(16, 2 × the prefill in units). @default 200 ms
   */
  readonly bufferSize: BufferSize;
  /** `--output`: WAV file to write as audio arrives; `-` streams it to stdout. @default undefined */
  readonly output: string | undefined;
  /** `--raw-format` (with `--output -`): raw PCM instead of a WAV on stdout; rate and channels must be the model's. @default undefined */
  readonly rawFormat?: RawFormat | undefined;
  /** `--play`, implied when neither `--output` nor `--web` is given (the seed always played). */
  readonly play: boolean;
  /** `--web [HOST:]PORT`: serve the web receiver and relay the datagrams to its pages. @default undefined (no relay) */
  readonly web?: WebAddress | undefined;
  /** `--web-root`: the built web receiver. @default undefined (examples/web-receiver/dist of this repository) */
  readonly webRoot?: string | undefined;
  /** With `web`: offer pages a WebRTC data channel (`--no-webrtc`: false). @default true */
  readonly webrtc?: boolean | undefined;
  /** `--sample-format` of the WAV output. @default "s16" */
  readonly sampleFormat: OutputSampleFormat;
  /** `--timeout`: seconds without packets after which the receiver ends. @default undefined (never) */
  readonly idleTimeoutS: number | undefined;
  /** `--stream-idle`: seconds without packets of a started stream after which it ends (flushed). @default 3 */
  readonly streamIdleS: number;
  /** `--allow-from ADDR[:PORT]`: the only source accepted. @default undefined (any; the stream's source is followed) */
  readonly allowFrom: { readonly address: string; readonly port: number | undefined } | undefined;
  /**
   * `--model a,b`: the models of a multi-track run's tracks (a track is decoded by the one of its
   * model kind). @default undefined (`model` only)
   */
  readonly models?: readonly ModelRef[] | undefined;
  /**
   * `--mix [FILE]`: receive every track of a multi-track run and mix them (aligned sample for
   * sample, at the highest rate and channel count of the models); `true`: the mix goes to
   * `--output`/`--play`; a path: the mix is written there (and the tracks to an `--output`
   * holding `{track}`). @default undefined (no mix)
   */
  readonly mix?: string | true | undefined;
}

/** `encstream encode IN.wav OUT.ecdc`. */
export interface EncodeOptions extends CodingOptions {
  /** The WAV file to encode. */
  readonly input: string;
  /** The `.ecdc` file to write. */
  readonly output: string;
}

/** `encstream decode IN.ecdc OUT.wav`. */
export interface DecodeOptions {
  /** The `.ecdc` file to decode. */
  readonly input: string;
  /** The WAV file to write. */
  readonly output: string;
  /** `--model`. @default undefined (the model named in the `.ecdc` header) */
  readonly model: ModelRef | undefined;
  /** `--lm`: language-model weights for LM-coded files. @default undefined (the model's own) */
  readonly lmPath: string | undefined;
  /** `--sample-format` of the WAV. @default "s16" */
  readonly sampleFormat: OutputSampleFormat;
  /** `--cache-dir`. @default undefined (the codec's default cache) */
  readonly cacheDir: string | undefined;
  /**
   * `--precision`: `"float32"` (exact, the reference's numbers), `"int8"` or `"int4"` (the
   * codec's quantized graphs: faster per frame, approximate, int4 the more so; see the codec
   * README's fidelity table).
   * @default "float32"
   */
  readonly precision?: CodecPrecision;
}

/** `encstream pull <repo-id>`: download a model into the cache. */
export interface PullOptions {
  /** Hugging Face repository (`24khz`/`48khz` map to Meta's). */
  readonly repoId: string;
  /** `--base-url` of the Hub or a mirror, no trailing slash. @default undefined ($ENCSTREAM_HUB_URL, else https://huggingface.co) */
  readonly baseUrl: string | undefined;
  /** `--revision`: branch, tag or commit. @default "main" */
  readonly revision: string;
  /** `--force`: download again even if cached. @default false */
  readonly force: boolean;
  /** `--cache-dir`. @default undefined (the codec's default cache) */
  readonly cacheDir: string | undefined;
}

/** `encstream devices`: list the audio devices. */
export interface DevicesOptions {
  /** `--json`: print JSON instead of a table. @default false */
  readonly json: boolean;
}

/** `encstream keygen FILE`: write a key file for authenticated streams. */
export interface KeygenOptions {
  /** The key file to write. */
  readonly output: string;
  /** `--key-id`: id of the new key, 0 to 255. @default undefined (random, not in the file) */
  readonly keyId: number | undefined;
  /** `--rotate`: add the new key, first, to an existing key file. @default false */
  readonly rotate: boolean;
  /** `--force`: replace an existing file. @default false */
  readonly force: boolean;
}

/** One async handler per command, called with the parsed, validated options. */
export interface CommandHandlers {
  readonly send: (options: SendOptions) => Promise<void>;
  readonly receive: (options: ReceiveOptions) => Promise<void>;
  readonly encode: (options: EncodeOptions) => Promise<void>;
  readonly decode: (options: DecodeOptions) => Promise<void>;
  readonly pull: (options: PullOptions) => Promise<void>;
  readonly devices: (options: DevicesOptions) => Promise<void>;
  readonly keygen: (options: KeygenOptions) => Promise<void>;
}

/** Where help, version and error text goes. */
export interface ProgramOutput {
  /** Help and version text. */
  readonly writeOut: (text: string) => void;
  /** Error messages. */
  readonly writeErr: (text: string) => void;
}

/** A parsed command line: what `parseCommandLine` returns. */
export type ParsedCommandLine =
  | { readonly command: "send"; readonly options: SendOptions }
  | { readonly command: "receive"; readonly options: ReceiveOptions }
  | { readonly command: "encode"; readonly options: EncodeOptions }
  | { readonly command: "decode"; readonly options: DecodeOptions }
  | { readonly command: "pull"; readonly options: PullOptions }
  | { readonly command: "devices"; readonly options: DevicesOptions }
  | { readonly command: "keygen"; readonly options: KeygenOptions }
  | { readonly command: "help"; readonly text: string };
