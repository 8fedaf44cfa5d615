// The SDL2 window: the guest screen scaled to the window with its aspect ratio kept
// (letterboxed), and the keyboard turned into PS/2 set-2 scan codes.
#include <SDL.h>

#include <bitset>
#include <memory>

#include "devices/display/display.hpp"
#include "devices/display/sdl_keymap.hpp"

namespace lift86 {

namespace {

class SdlDisplay final : public Display {
public:
    static std::unique_ptr<Display> create(std::string* error);
    ~SdlDisplay() override;

    void pump_events() override;
    bool read_back(Framebuffer& out) override;

protected:
    void present() override;
    bool live() const override { return true; }

private:
    SdlDisplay() = default;
    void draw();   // frame_ into the back buffer, scaled and centred
    void key(SDL_Scancode sc, bool pressed);
    void release_all_keys();

    SDL_Window* window_ = nullptr;
    SDL_Renderer* renderer_ = nullptr;
    SDL_Texture* texture_ = nullptr;
    unsigned tex_w_ = 0, tex_h_ = 0;
    unsigned mode_w_ = 0, mode_h_ = 0;   // last guest resolution the window was sized for
    std::bitset<SDL_NUM_SCANCODES> held_;
};

std::unique_ptr<Display> SdlDisplay::create(std::string* error) {
    auto fail = [&](const char* what) -> std::unique_ptr<Display> {
        if (error) *error = std::string("cannot open a window (") + what + ": " + SDL_GetError() +
                            "); use -display none";
        return nullptr;
    };
    // lift86 handles Ctrl-C itself; keep SDL's signal handlers out.
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "nearest");
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) return fail("SDL_Init");
    std::unique_ptr<SdlDisplay> d(new SdlDisplay);
    d->window_ = SDL_CreateWindow("lift86", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, 720, 400,
                                  SDL_WINDOW_RESIZABLE);
    if (!d->window_) return fail("SDL_CreateWindow");
    // No vsync: presenting must never block the emulation thread.
    d->renderer_ = SDL_CreateRenderer(d->window_, -1, SDL_RENDERER_ACCELERATED);
    if (!d->renderer_) d->renderer_ = SDL_CreateRenderer(d->window_, -1, SDL_RENDERER_SOFTWARE);
    if (!d->renderer_) return fail("SDL_CreateRenderer");
    SDL_StopTextInput();   // raw keys only: no IME
    return d;
}

SdlDisplay::~SdlDisplay() {
    if (texture_) SDL_DestroyTexture(texture_);
    if (renderer_) SDL_DestroyRenderer(renderer_);
    if (window_) SDL_DestroyWindow(window_);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
}

void SdlDisplay::key(SDL_Scancode sc, bool pressed) {
    uint16_t code = sdl_scancode_to_set2(sc);
    if (!code) return;
    if (!pressed && !held_[sc]) return;   // a release we never reported a press for
    held_[sc] = pressed;
    if (on_key) on_key(code, pressed);
}

// Keys still down when the window loses focus would stay down in the guest (Alt after
// Alt-Tab): release them.
void SdlDisplay::release_all_keys() {
    for (size_t sc = 0; sc < held_.size(); sc++)
        if (held_[sc]) key(SDL_Scancode(sc), false);
}

void SdlDisplay::pump_events() {
    SDL_Event ev;
    while (SDL_PollEvent(&ev)) {
        switch (ev.type) {
        case SDL_QUIT:
            if (on_close) on_close();
            break;
        case SDL_WINDOWEVENT:
            if (ev.window.event == SDL_WINDOWEVENT_CLOSE) {
                if (on_close) on_close();
            } else if (ev.window.event == SDL_WINDOWEVENT_FOCUS_LOST) {
                release_all_keys();
            } else if (ev.window.event == SDL_WINDOWEVENT_EXPOSED ||
                       ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
                present();
            }
            break;
        case SDL_KEYDOWN:
            // Auto-repeat arrives as further key-downs: typematic makes, as a keyboard sends.
            key(ev.key.keysym.scancode, true);
            break;
        case SDL_KEYUP:
            key(ev.key.keysym.scancode, false);
            break;
        default:
            break;
        }
    }
}

void SdlDisplay::draw() {
    SDL_SetRenderDrawColor(renderer_, 0, 0, 0, 255);
    SDL_RenderClear(renderer_);
    if (frame_.width == 0 || frame_.height == 0) return;
    if (!texture_ || tex_w_ != frame_.width || tex_h_ != frame_.height) {
        if (texture_) SDL_DestroyTexture(texture_);
        texture_ = SDL_CreateTexture(renderer_, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING,
                                     int(frame_.width), int(frame_.height));
        tex_w_ = texture_ ? frame_.width : 0;
        tex_h_ = texture_ ? frame_.height : 0;
        if (!texture_) return;
    }
    SDL_UpdateTexture(texture_, nullptr, frame_.pixels.data(), int(frame_.width * 4));
    int ww = 0, wh = 0;
    SDL_GetRendererOutputSize(renderer_, &ww, &wh);
    // Largest rectangle of the frame's aspect ratio that fits, centred.
    SDL_Rect dst;
    if (int64_t(ww) * frame_.height <= int64_t(wh) * frame_.width) {
        dst.w = ww;
        dst.h = int(int64_t(ww) * frame_.height / frame_.width);
    } else {
        dst.h = wh;
        dst.w = int(int64_t(wh) * frame_.width / frame_.height);
    }
    dst.x = (ww - dst.w) / 2;
    dst.y = (wh - dst.h) / 2;
    SDL_RenderCopy(renderer_, texture_, nullptr, &dst);
}

void SdlDisplay::present() {
    // Follow guest mode changes with the window size (small modes doubled), unless the user
    // has maximised or full-screened it. Tiny transient geometries during a mode set are not
    // worth a resize.
    if ((frame_.width != mode_w_ || frame_.height != mode_h_) && frame_.width >= 160 && frame_.height >= 100) {
        mode_w_ = frame_.width;
        mode_h_ = frame_.height;
        if (!(SDL_GetWindowFlags(window_) & (SDL_WINDOW_MAXIMIZED | SDL_WINDOW_FULLSCREEN))) {
            unsigned scale = frame_.width < 640 ? 2 : 1;
            SDL_SetWindowSize(window_, int(frame_.width * scale), int(frame_.height * scale));
        }
    }
    draw();
    SDL_RenderPresent(renderer_);
}

bool SdlDisplay::read_back(Framebuffer& out) {
    draw();   // the back buffer is undefined after a present: draw again, then read
    int ww = 0, wh = 0;
    if (SDL_GetRendererOutputSize(renderer_, &ww, &wh) != 0 || ww <= 0 || wh <= 0) return false;
    out.resize(unsigned(ww), unsigned(wh));
    return SDL_RenderReadPixels(renderer_, nullptr, SDL_PIXELFORMAT_RGB888, out.pixels.data(), ww * 4) == 0;
}

}  // namespace

std::unique_ptr<Display> make_sdl_display(std::string* error) { return SdlDisplay::create(error); }

}  // namespace lift86
