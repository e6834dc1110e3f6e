// Types for the parts of @echogarden/speex-resampler-wasm (an Emscripten build of SpeexDSP's
// resampler, shipped without declarations) that src/audio/resampler.ts uses. Pointers are byte
// offsets into the module's heap; lengths are in samples per channel.
declare module "@echogarden/speex-resampler-wasm/simd" {
  export interface SpeexResamplerModule {
    HEAPU8: Uint8Array;
    HEAPU32: Uint32Array;
    HEAPF32: Float32Array;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    _speex_resampler_init(
      channels: number,
      inputRateHz: number,
      outputRateHz: number,
      quality: number,
      errorPointer: number,
    ): number;
    _speex_resampler_destroy(state: number): void;
    _speex_resampler_process_float(
      state: number,
      channelIndex: number,
      input: number,
      inputLengthPointer: number,
      output: number,
      outputLengthPointer: number,
    ): number;
    _speex_resampler_skip_zeros(state: number): number;
    _speex_resampler_get_input_latency(state: number): number;
    _speex_resampler_strerror(code: number): number;
  }
  const createModule: (overrides?: Record<string, unknown>) => Promise<SpeexResamplerModule>;
  export default createModule;
}
