// Displays: the SDL2 window under SDL_VIDEODRIVER=dummy (frames reach the window scaled with
// their aspect kept, keyboard events become PS/2 set-2 codes, closing calls on_close, poll()
// throttles frames), the headless display's screenshots, and the SDL scancode table.
#include <gtest/gtest.h>
#include <SDL.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include "devices/display/display.hpp"
#include "devices/display/sdl_keymap.hpp"

using namespace lift86;

namespace {

void draw_halves(Framebuffer& fb, unsigned w, unsigned h) {
    fb.resize(w, h);
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++) fb.row(y)[x] = x < w / 2 ? 0xFF0000u : 0x0000FFu;
}

void push_key(SDL_Scancode sc, bool down) {
    SDL_Event ev{};
    ev.type = down ? SDL_KEYDOWN : SDL_KEYUP;
    ev.key.state = down ? SDL_PRESSED : SDL_RELEASED;
    ev.key.keysym.scancode = sc;
    ASSERT_EQ(SDL_PushEvent(&ev), 1) << SDL_GetError();
}

struct SdlDisplayTest : ::testing::Test {
    static void SetUpTestSuite() {
        setenv("SDL_VIDEODRIVER", "dummy", 1);
        setenv("SDL_AUDIODRIVER", "dummy", 1);
    }
    std::unique_ptr<Display> open() {
        std::string err;
        auto d = make_display("sdl", &err);
        EXPECT_TRUE(d) << err;
        return d;
    }
};

}  // namespace

TEST_F(SdlDisplayTest, FrameIsScaledIntoTheWindowWithItsAspectKept) {
    auto d = open();
    ASSERT_TRUE(d);
    d->set_source([](Framebuffer& fb) { draw_halves(fb, 320, 200); });
    d->refresh();
    d->pump_events();
    Framebuffer win;
    ASSERT_TRUE(d->read_back(win));
    ASSERT_GT(win.width, 0u);
    // Whatever the window size, the left half of the picture is red and the right half blue.
    EXPECT_EQ(win.at(win.width / 4, win.height / 2) & 0xFFFFFF, 0xFF0000u);
    EXPECT_EQ(win.at(win.width * 3 / 4, win.height / 2) & 0xFFFFFF, 0x0000FFu);

    // A square frame in a landscape window: black bars left and right.
    d->set_source([](Framebuffer& fb) { draw_halves(fb, 100, 100); });
    d->refresh();
    ASSERT_TRUE(d->read_back(win));
    ASSERT_GT(win.width, win.height);
    EXPECT_EQ(win.at(1, win.height / 2) & 0xFFFFFF, 0x000000u);
    EXPECT_EQ(win.at(win.width - 2, win.height / 2) & 0xFFFFFF, 0x000000u);
    EXPECT_EQ(win.at(win.width / 2 - win.height / 4, win.height / 2) & 0xFFFFFF, 0xFF0000u);
    EXPECT_EQ(win.at(win.width / 2 + win.height / 4, win.height / 2) & 0xFFFFFF, 0x0000FFu);
    EXPECT_EQ(d->frame().width, 100u);
}

TEST_F(SdlDisplayTest, KeysBecomeSet2CodesAndCloseIsReported) {
    auto d = open();
    ASSERT_TRUE(d);
    std::vector<std::pair<uint16_t, bool>> keys;
    int closes = 0;
    d->on_key = [&](uint16_t code, bool pressed) { keys.emplace_back(code, pressed); };
    d->on_close = [&] { closes++; };
    push_key(SDL_SCANCODE_A, true);
    push_key(SDL_SCANCODE_A, false);
    push_key(SDL_SCANCODE_UP, true);
    push_key(SDL_SCANCODE_UP, false);
    push_key(SDL_SCANCODE_RCTRL, false);   // a release without a press is dropped
    d->pump_events();
    std::vector<std::pair<uint16_t, bool>> want = {
        {0x1C, true}, {0x1C, false}, {0xE075, true}, {0xE075, false}};
    EXPECT_EQ(keys, want);
    EXPECT_EQ(closes, 0);

    SDL_Event quit{};
    quit.type = SDL_QUIT;
    SDL_PushEvent(&quit);
    d->pump_events();
    EXPECT_EQ(closes, 1);
}

TEST_F(SdlDisplayTest, PollRendersAtMostAboutSixtyTimesASecond) {
    auto d = open();
    ASSERT_TRUE(d);
    int frames = 0;
    d->set_source([&](Framebuffer& fb) {
        frames++;
        draw_halves(fb, 640, 480);
    });
    auto t0 = std::chrono::steady_clock::now();
    d->poll();
    EXPECT_EQ(frames, 1);                 // the first poll draws at once
    d->poll();
    d->poll();
    if (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(10)) {
        EXPECT_EQ(frames, 1);             // ...the next ones within 16 ms do not
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    d->poll();
    EXPECT_EQ(frames, 2);
}

TEST(HeadlessDisplay, ScreenshotRendersAndWritesPng) {
    std::string err;
    auto d = make_display("none", &err);
    ASSERT_TRUE(d) << err;
    int frames = 0;
    d->set_source([&](Framebuffer& fb) {
        frames++;
        draw_halves(fb, 64, 32);
    });
    d->poll();
    EXPECT_EQ(frames, 0);                 // headless: no frames unless asked for
    std::string path = ::testing::TempDir() + "lift86_display_test_" + std::to_string(::getpid()) + ".png";
    ASSERT_TRUE(d->screenshot(path, &err)) << err;
    EXPECT_EQ(frames, 1);
    FILE* f = std::fopen(path.c_str(), "rb");
    ASSERT_TRUE(f);
    unsigned char sig[8] = {};
    EXPECT_EQ(std::fread(sig, 1, 8, f), 8u);
    std::fclose(f);
    EXPECT_EQ(sig[1], 'P');
    EXPECT_EQ(sig[2], 'N');
    EXPECT_EQ(sig[3], 'G');
    std::remove(path.c_str());
    EXPECT_EQ(d->frame().at(0, 0), 0xFF0000u);

    EXPECT_FALSE(make_display("vnc", &err));
    EXPECT_EQ(err, "unknown display 'vnc' (expected none or sdl)");
}

TEST(SdlKeymap, Set2CodesOfRepresentativeKeys) {
    EXPECT_EQ(sdl_scancode_to_set2(SDL_SCANCODE_ESCAPE), 0x76);
    EXPECT_EQ(sdl_scancode_to_set2(SDL_SCANCODE_RETURN), 0x5A);
    EXPECT_EQ(sdl_scancode_to_set2(SDL_SCANCODE_KP_ENTER), 0xE05A);
    EXPECT_EQ(sdl_scancode_to_set2(SDL_SCANCODE_F7), 0x83);
    EXPECT_EQ(sdl_scancode_to_set2(SDL_SCANCODE_LSHIFT), 0x12);
    EXPECT_EQ(sdl_scancode_to_set2(SDL_SCANCODE_RALT), 0xE011);
    EXPECT_EQ(sdl_scancode_to_set2(SDL_SCANCODE_KP_DIVIDE), 0xE04A);
    EXPECT_EQ(sdl_scancode_to_set2(SDL_SCANCODE_DELETE), 0xE071);
    EXPECT_EQ(sdl_scancode_to_set2(SDL_SCANCODE_Z), 0x1A);
    EXPECT_EQ(sdl_scancode_to_set2(SDL_SCANCODE_PAUSE), 0);
    EXPECT_EQ(sdl_scancode_to_set2(-1), 0);
    EXPECT_EQ(sdl_scancode_to_set2(SDL_NUM_SCANCODES), 0);
}
