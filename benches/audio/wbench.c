// Screening bench for ggml build flags (benches/audio/ggml-flags.sh builds and runs it): whisper_full on a raw f32
// 16 kHz file, audio_ctx fitted as huashu does (floor 512), N repetitions, flash attention 0/1; prints wall ms
// per run, whisper's encode/decode ms and the text.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "whisper.h"
static double now_ms(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e3+t.tv_nsec/1e6;}
static void quiet(enum ggml_log_level l,const char*t,void*u){(void)l;(void)t;(void)u;}
int main(int argc,char**argv){
  if(argc<6){fprintf(stderr,"wbench MODEL RAW_F32 LANG THREADS REPS [flash 0/1]\n");return 2;}
  whisper_log_set(quiet,NULL);
  FILE*f=fopen(argv[2],"rb"); fseek(f,0,SEEK_END); long n=ftell(f)/4; fseek(f,0,SEEK_SET);
  float*pcm=malloc(n*4); if(fread(pcm,4,n,f)!=(size_t)n) return 1; fclose(f);
  struct whisper_context_params cp=whisper_context_default_params(); cp.use_gpu=false;
  cp.flash_attn = argc>6 ? atoi(argv[6]) : 1;
  struct whisper_context*ctx=whisper_init_from_file_with_params(argv[1],cp); if(!ctx) return 1;
  fprintf(stderr,"%s\n",whisper_print_system_info());
  int threads=atoi(argv[4]), reps=atoi(argv[5]);
  double secs=n/16000.0; int actx=(int)((secs+1.5)*50); actx=(actx+63)/64*64; if(actx<512)actx=512; if(actx>1500)actx=1500;
  double best=1e18;
  for(int r=0;r<reps;r++){
    struct whisper_full_params p=whisper_full_default_params(WHISPER_SAMPLING_GREEDY);
    p.language=argv[3]; p.n_threads=threads; p.print_progress=false; p.print_realtime=false; p.print_timestamps=false;
    p.no_context=true; p.suppress_blank=true; p.temperature_inc=0.0f; p.audio_ctx=secs<29?actx:0;
    whisper_reset_timings(ctx);
    double t=now_ms(); if(whisper_full(ctx,p,pcm,n)!=0) return 1; double ms=now_ms()-t; if(ms<best)best=ms;
    struct whisper_timings*tm=whisper_get_timings(ctx);
    printf("run %d: %.0f ms (encode %.0f, decode %.0f) RTF %.3f\n",r,ms,tm?tm->encode_ms:-1,tm?tm->decode_ms:-1,ms/1000/secs);
  }
  printf("best RTF %.3f text:",best/1000/secs);
  for(int i=0;i<whisper_full_n_segments(ctx);i++) printf("%s",whisper_full_get_segment_text(ctx,i));
  printf("\n"); return 0;
}
